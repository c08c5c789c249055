"""The keyword policy: one source, a Python predicate and a JavaScript condition that agree."""
from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st

from helpers.expressions import Expressions
from helpers.policy import DEFAULT_OPT_OUT_WORDS, KeywordPolicy, TutorialRule, compare_rules
from helpers.workflow import inbound_payload

# (message, expected): opt-out, opt-in or other.
LABELLED = [
    *[(w, "opt-out") for w in DEFAULT_OPT_OUT_WORDS],
    ("stop", "opt-out"), ("Stop!", "opt-out"), ("  STOP  ", "opt-out"), ('"STOP"', "opt-out"), ("'stop'", "opt-out"),
    ("STOP.", "opt-out"), ("STOP 🛑", "opt-out"), ("🛑 stop", "opt-out"), ("Stop please", "opt-out"),
    ("please stop", "opt-out"), ("stop it", "opt-out"), ("STOP NOW!!!", "opt-out"), ("Opt Out", "opt-out"),
    ("opt-out please", "opt-out"), ("unsubscribe.", "opt-out"), ("Cancel", "opt-out"), ("end", "opt-out"),
    ("please stop texting me", "opt-out"), ("stop sending me messages", "opt-out"), ("unsubscribe me", "opt-out"),
    ("remove me from your list", "opt-out"), ("take me off this list", "opt-out"), ("opt me out", "opt-out"),
    ("no more messages", "opt-out"), ("don't text me anymore", "opt-out"), ("Don’t text me any more!", "opt-out"),
    ("do not contact me", "opt-out"), ("Please remove me from the mailing list", "opt-out"),
    ("stop messaging me please", "opt-out"), ("I want to unsubscribe", "opt-out"), ("no more texts please", "opt-out"),
    ("don't stop", "other"), ("which bus stop?", "other"), ("cancel my order", "other"),
    ("the end of the month", "other"), ("STOPPED by the store", "other"), ("Stop by our shop", "other"),
    ("can I cancel my booking", "other"), ("quitting is hard", "other"), ("unstoppable", "other"),
    ("Stop the car", "other"), ("hello", "other"), ("", "other"), ("🛑", "other"), ("stopstop", "other"),
    ("START", "opt-in"), ("start", "opt-in"), ("Unstop", "opt-in"), ("start please", "opt-in"),
]


@pytest.fixture(scope="module")
def js():
    return Expressions({})


def js_says(js, policy, kind, text, channel="WhatsApp"):
    """What the deployed Branch chain decides: true when any of its conditions is."""
    data = {"payload": {"body": text}} if channel == "SMS" else {"payload": {"content": {"text": text}}}
    return policy.js_classify(data, channel, js) == kind.replace("_", "-")


@pytest.mark.parametrize("channel", ["WhatsApp", "SMS"])
@pytest.mark.parametrize("text,expected", LABELLED)
def test_labelled_messages_in_python_and_javascript(js, text, expected, channel):
    policy = KeywordPolicy()
    assert policy.classify(text) == expected
    assert js_says(js, policy, "opt_out", text, channel) is (expected == "opt-out")
    assert js_says(js, policy, "opt_in", text, channel) is (expected == "opt-in")


PROPERTY_EXAMPLES = 300


@settings(max_examples=PROPERTY_EXAMPLES, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("stopSTOP enduqiacl'\"-!.?🛑ÉéàAmyeRxt\t\n’")), max_size=24))
def test_python_and_javascript_agree_on_any_text(text):
    policy = KeywordPolicy()
    js = Expressions({})
    assert js_says(js, policy, "opt_out", text) is policy.is_opt_out(text), repr(text)
    assert js_says(js, policy, "opt_in", text) is policy.is_opt_in(text), repr(text)


def test_word_lists_are_configurable_with_accents_folded(js):
    policy = KeywordPolicy(opt_out_words=DEFAULT_OPT_OUT_WORDS + ("ARRET", "BAJA"), opt_in_words=("START", "ALTA"))
    for text in ("ARRÊT", "arret", "baja", "Arrêt !"):
        assert policy.is_opt_out(text) and js_says(js, policy, "opt_out", text), text
    assert policy.is_opt_in("alta") and not KeywordPolicy().is_opt_out("arret")


def test_a_word_cannot_be_both_opt_out_and_opt_in():
    with pytest.raises(ValueError, match="both"):
        KeywordPolicy(opt_in_words=("STOP",))


def test_a_message_without_text_is_not_an_opt_out(js):
    for data in ({"payload": {"type": "Image", "content": {"url": "https://example.com/x.png"}}}, {"payload": {}},
                 {}, {"payload": {"content": None}}, {"payload": {"content": {"interactive": None}}}):
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
    outputs = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                              env={**__import__("os").environ, "PYTHONHASHSEED": seed}).stdout
               for seed in ("1", "2", "3", "4")}
    assert len(outputs) == 1


@pytest.mark.parametrize("text,kind", [
    ("HELP", "help"), ("help please", "help"), ("Info", "help"), ("AIDE", "help"), ("ayuda", "help"),
    ("Hilfe!", "help"), ("bantuan", "help"), ("STOP", "opt-out"), ("help me stop these messages", "other"),
    ("I need help with my order", "other"), ("helpful", "other"), ("stop help", "other"),
])
def test_help_is_its_own_kind_never_an_opt_out(text, kind):
    policy = KeywordPolicy()
    assert policy.classify(text) == kind
    assert policy.js_classify(inbound_payload("+6591234567", text)) == kind  # what the deployed Branch steps do


def test_help_words_cannot_double_as_opt_out_words():
    with pytest.raises(ValueError, match="help words cannot be"):
        KeywordPolicy(opt_out_words=("STOP", "HELP"))
