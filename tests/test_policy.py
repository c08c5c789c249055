"""The keyword policy: one source, a Python predicate and a JavaScript condition that agree."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connect_rules.scripts import MAX_SCRIPT_LENGTH, check_script, js_length
from helpers.errors import BadInput
from helpers.expressions import Expressions
from helpers.languages import PACKS, LanguagePack
from helpers.policy import KeywordPolicy, TutorialRule, compare_rules, normalise, typo_variants
from helpers.workflow import inbound_payload

# The labelled set: (language, message, expected), expected being opt-out, opt-in, help or other.
# Opt-outs, look-alikes and everyday sentences in every pack's language.
LABELLED = [
    (row["language"], row["message"], row["expected"])
    for row in csv.DictReader(open(Path(__file__).parent / "data" / "labelled_messages.csv", encoding="utf-8"))
]
ALL = KeywordPolicy(languages=tuple(PACKS))


def test_the_labelled_set_covers_every_language():
    assert len(LABELLED) >= 300
    for code in PACKS:
        labels = {expected for language, _, expected in LABELLED if language == code}
        assert {"opt-out", "other", "help", "opt-in"} <= labels, code
    for code in ("th", "vi", "tl", "hi", "it", "ru", "pl", "tr", "ar"):  # the packs added after the first eleven
        assert sum(language == code for language, _, _ in LABELLED) >= 25, code


def test_scripts_outside_latin_cjk_and_hangul_are_read_and_whole_messages_only():
    """Thai, Arabic and Devanagari were spaces to the policy: their opt-outs could never match."""
    for text, code in (("ไม่รับข้อความ", "th"), ("أوقف", "ar"), ("बंद", "hi"), ("Стоп", "ru")):
        assert KeywordPolicy(languages=(code,)).classify(text) == "opt-out", text
        assert KeywordPolicy().classify(text) == "other", text  # English alone does not take them
    assert normalise("ไม่รับข้อความ") == "ไม่รับข้อความ" and normalise("أُوقِفْ!") == "اوقف"
    assert normalise("Ngừng nhận tin") == normalise("ngung nhan tin") == "ngung nhan tin"
    assert normalise("Łódź İPTAL") == "lodz iptal" and normalise("ıptal") == "iptal"
    thai = KeywordPolicy(languages=("th",))
    assert thai.classify("หยุดครับ") == "opt-out" and thai.classify("วันหยุด") == "other"  # no spaces, still whole


@pytest.mark.parametrize("language", list(PACKS))
def test_labelled_messages_with_their_language_chosen(language):
    """Python, with only that language (and English, always in) chosen: what the operator deploys."""
    policy = KeywordPolicy(languages=(language,))
    wrong = [
        (text, expected, policy.classify(text))
        for code, text, expected in LABELLED
        if code in (language, "en") and policy.classify(text) != expected
    ]
    assert wrong == []


@pytest.mark.parametrize("language", list(PACKS))
def test_labelled_messages_with_every_language_in_python_and_javascript(js, language):
    """All packs at once (no pack swallows another's everyday words), and the deployed JavaScript
    chain (WhatsApp and SMS) decides exactly as Python."""
    wrong = []
    for code, text, expected in LABELLED:
        if code != language:
            continue
        for channel in ("WhatsApp", "SMS"):
            data = {"payload": {"body": text}} if channel == "SMS" else {"payload": {"content": {"text": text}}}
            said = (ALL.classify(text), ALL.js_classify(data, channel, js))
            if said != (expected, expected):
                wrong.append((text, channel, expected, said))
    assert wrong == []


def test_english_only_misses_the_other_languages():
    """The default is English: another language's words opt nobody out until the operator picks it."""
    english = KeywordPolicy()
    assert english.languages == ("en",)
    for text in ("BAJA", "ARRÊT", "BERHENTI", "退订", "配信停止", "수신거부", "AFMELDEN", "descadastrar", "AYUDA"):
        assert english.classify(text) == "other", text
        assert ALL.classify(text) != "other", text


def test_an_unknown_language_is_a_clear_error_listing_the_known_ones():
    with pytest.raises(BadInput, match=r"unknown language code\(s\) 'xx'.*en \(English\).*ko \(Korean\)"):
        KeywordPolicy(languages=("es", "xx"))
    assert KeywordPolicy(languages="es, FR").languages == ("en", "es", "fr")


def test_typos_are_bounded():
    assert typo_variants("stop") == {"tsop", "sotp", "stpo", "sstop", "sttop", "stoop", "stopp"}
    assert typo_variants("end") == set() and typo_variants("opt\x00out") == set()
    assert "unsubcribe" in typo_variants("unsubscribe") and "usubscribe" in typo_variants("unsubscribe")
    assert "stp" not in typo_variants("stop")  # a missing letter only from eight letters up


def test_no_typo_is_a_word_of_the_negative_messages_or_an_everyday_word():
    """Every typo rule is checked against the negative messages: no variant that the policy accepts
    equals a word (or the whole text) of a message labelled other, opt-in or help, in any language."""
    negatives = {normalise(text) for _, text, expected in LABELLED if expected != "opt-out"}
    keywords = {normalise(w) for p in PACKS.values() for w in p.opt_out_words + p.ordinary_words}
    words = (negatives | {w for text in negatives for w in text.split()}) - keywords  # "stopp" in "stopp mal kurz"
    for pack in ALL.packs:
        for word, variants in ALL.variants(pack).items():
            assert not (variants & words), (pack.code, word, sorted(variants & words))
            assert not variants & {normalise(w) for p in PACKS.values() for w in p.look_alikes}
            for variant in variants:
                assert ALL.classify(variant) == "opt-out", variant


def test_every_script_of_every_language_keeps_the_rules():
    for kind in ("opt_out", "opt_in", "help"):
        for channel in ("WhatsApp", "SMS"):
            for condition in ALL.js_conditions(kind, channel):
                assert js_length(condition[2:-2]) <= MAX_SCRIPT_LENGTH
                assert check_script(condition[2:-2]) == [], condition


def test_language_table_counts_what_is_deployed():
    table = ALL.language_table()
    assert list(table.index)[:2] == ["en (English)", "es (Spanish)"] and len(table) == len(PACKS)
    scripts = ALL.js_conditions("opt_out")
    assert table["opt-out scripts"].min() >= 1 and table["opt-out scripts"].max() <= len(scripts)
    assert table.loc["en (English)", "typo variants"] > 50 and table.loc["zh (Chinese)", "typo variants"] == 0
    assert table.loc["es (Spanish)", "whole-message only"] == len(PACKS["es"].ordinary_words)


@pytest.fixture(scope="module")
def js():
    return Expressions({})


def js_says(js, policy, kind, text, channel="WhatsApp"):
    """What the deployed Branch chain decides: true when any of its conditions is."""
    data = {"payload": {"body": text}} if channel == "SMS" else {"payload": {"content": {"text": text}}}
    return policy.js_classify(data, channel, js) == kind.replace("_", "-")


PROPERTY_EXAMPLES = 300
_JS = Expressions({})


@settings(max_examples=PROPERTY_EXAMPLES, deadline=None)
@given(
    st.text(
        alphabet=st.sampled_from(
            list("stopSTOP enduqiacl'\"-!.?🛑ÉéàAmyeRxt\t\n’ＳＴＯＰ退订配信停止ｽﾄｯﾌﾟ수신거부bajrêß")
        ),
        max_size=24,
    )
)
def test_python_and_javascript_agree_on_any_text(text):
    """The deployed chain (opt-out, then opt-in, then help) decides as Python does, for any text."""
    data = {"payload": {"content": {"text": text}}}
    assert ALL.js_classify(data, js=_JS) == ALL.classify(text), repr(text)  # one QuickJS context for all


def test_extra_words_are_added_with_accents_folded(js):
    policy = KeywordPolicy(extra_opt_out_words=("ARRET", "BAJA"))
    for text in ("ARRÊT", "arret", "baja", "Arrêt !"):
        assert policy.is_opt_out(text) and js_says(js, policy, "opt_out", text), text
    assert not KeywordPolicy().is_opt_out("arret")


def test_a_word_cannot_be_both_opt_out_and_opt_in():
    with pytest.raises(ValueError, match="both"):
        KeywordPolicy(packs=(LanguagePack("xx", "Test", opt_out_words=("STOP",), opt_in_words=("STOP",)),))


def test_a_message_without_text_is_not_an_opt_out(js):
    for data in (
        {"payload": {"type": "Image", "content": {"url": "https://example.com/x.png"}}},
        {"payload": {}},
        {},
        {"payload": {"content": None}},
        {"payload": {"content": {"interactive": None}}},
    ):
        js.set("data", data)
        assert not any(js.render(c) for c in KeywordPolicy().js_conditions()), data
        assert KeywordPolicy().classify_event(data) == "other"


def test_tutorial_rule_is_kept_for_comparison(js):
    rule = TutorialRule()
    assert rule.is_opt_out("STOPPED by the store") and not rule.is_opt_out("stop")
    js.set("data", {"payload": {"content": {"text": "please STOP"}}})
    assert js.render(rule.js_condition()) is True


def test_comparison_table_shows_where_the_tutorial_is_wrong():
    table = compare_rules()
    assert table["policy right"].all()
    assert not table["tutorial right"].all()
    assert (table["policy: opt-out"] == table["policy: opt-out (JavaScript)"]).all()


def test_generated_condition_is_the_same_in_every_process():
    """Set order varies with PYTHONHASHSEED; the condition text must not, or re-deploys would bump versions."""
    import subprocess
    import sys

    code = "from helpers.policy import KeywordPolicy; print(KeywordPolicy().js_conditions())"
    outputs = {
        subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            check=True,
            env={**__import__("os").environ, "PYTHONHASHSEED": seed},
        ).stdout
        for seed in ("1", "2", "3", "4")
    }
    assert len(outputs) == 1


HELPING = KeywordPolicy(languages=("fr", "es", "de", "id"))


@pytest.mark.parametrize(
    "text,kind",
    [
        ("HELP", "help"),
        ("help please", "help"),
        ("Info", "help"),
        ("AIDE", "help"),
        ("ayuda", "help"),
        ("Hilfe!", "help"),
        ("bantuan", "help"),
        ("STOP", "opt-out"),
        ("help me stop these messages", "other"),
        ("I need help with my order", "other"),
        ("helpful", "other"),
        ("stop help", "other"),
    ],
)
def test_help_is_its_own_kind_never_an_opt_out(js, text, kind):
    policy = HELPING
    assert policy.classify(text) == kind
    assert policy.js_classify(inbound_payload("+6591234567", text), js=js) == kind  # what the deployed Branch steps do


def test_help_words_cannot_double_as_opt_out_words():
    with pytest.raises(ValueError, match="help words cannot be"):
        KeywordPolicy(extra_opt_out_words=("HELP",))


@pytest.mark.parametrize(
    "title,language",
    [
        ("Detener promociones", "es"),
        ("Parar promoções", "pt"),
        ("Arrêter les promotions", "fr"),
        ("Hentikan promosi", "id"),
        ("停止推广", "zh"),
        ("프로모션 중지", "ko"),
    ],
)
def test_a_marketing_button_tap_in_the_customers_language_is_an_opt_out(js, title, language):
    """WhatsApp's quick-reply buttons carry the label in the customer's language."""
    tap = inbound_payload("+6591234567", None, button={"id": "marketing-stop", "title": title})
    policy = KeywordPolicy(languages=(language,))
    assert policy.classify_event(tap) == "opt-out" == policy.js_classify(tap, js=js)
    assert KeywordPolicy().classify_event(tap) == "other"  # English alone does not read it
