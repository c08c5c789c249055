"""The keyword policy: which inbound messages are opt-outs, opt-ins or requests for help.

One :class:`KeywordPolicy` yields both the Python predicate (``classify``) and the JavaScript
conditions that the workflow's Branch steps evaluate (``js_conditions``). Both run the same
steps, built from the same strings:

1. lower-case; compatibility-decompose (full-width ＳＴＯＰ -> stop, half-width kana -> kana)
   and drop accents (ARRÊT -> arret);
2. curly apostrophes become ', and every character that is not a letter, digit, space,
   apostrophe or hyphen becomes a space (quotes, punctuation, emoji);
3. spaces collapse, the ends are trimmed, a word repeated at once counts once ("stop stop");
4. the result must be a whole keyword of a chosen language (optionally with that language's
   courtesy words: "stop please", "baja por favor") or a whole plainly worded request ("please
   stop texting me"). A message that only mentions a keyword ("which bus stop?", "cancel my
   order") is not an opt-out.

The words come from language packs (helpers/languages.py); the operator picks the languages.
Keywords of four letters or more also match bounded typos ("stpo", "unsubcribe"): see
:func:`typo_variants`. The regular expressions use only syntax that Python's ``re`` and
ECMAScript 5 read alike (no lookbehind, no Unicode property escapes).
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import TYPE_CHECKING

from connect_rules.scripts import MAX_SCRIPT_LENGTH, js_length

from .errors import BadInput
from .languages import DEFAULT_LANGUAGES, PACKS, LanguagePack, packs_for, parse_languages

if TYPE_CHECKING:  # for annotations only
    import pandas as pd

    from .expressions import Expressions

# Normalisation, as (pattern, replacement) pairs applied in order after lower-casing, compatibility
# decomposition and FOLDED. Same strings in Python and JavaScript (replacements in JavaScript's $n
# form). Letters: Latin, Greek, Cyrillic, Arabic, Devanagari, Thai, Hangul jamo (Hangul decomposes),
# kana, CJK; each script's own marks are kept (a Thai tone mark or a Devanagari vowel sign is part of
# the word) except Arabic's short vowels and tatweel, which customers write or leave out at will.
# Arabic, Devanagari and Thai punctuation (، ؛ ؟ । ॥ ๏ ฯ) and Thai's currency sign are not letters.
_LETTERS = (
    r"a-z0-9\u00df-\u024f\u0370-\u03ff\u0400-\u04ff\u0621-\u064a\u0660-\u0669\u066e-\u06d3"
    r"\u0900-\u0963\u0966-\u096f\u0971-\u097f\u0e01-\u0e2e\u0e30-\u0e3a\u0e40-\u0e4e\u0e50-\u0e59"
    r"\u1100-\u11ff\u3040-\u30ff\u3130-\u318f\u3400-\u4dbf\u4e00-\u9fff"
)
# Letters that do not decompose but that customers type without their mark on a plain keyboard:
# Vietnamese đ, Polish ł, Turkish dotless ı; Arabic alef maksura as ya; curly apostrophes as '.
FOLDED = {
    "\u0111": "d",
    "\u0142": "l",
    "\u0131": "i",
    "\u0649": "\u064a",
    "\u2018": "'",
    "\u2019": "'",
    "\u02bc": "'",
    "`": "'",
}
NORMALISE_STEPS = (
    (r"[\u0300-\u036f\u064b-\u065f\u0670\u0640]", ""),  # accents left over from the decomposition; Arabic vowels
    (rf"[^{_LETTERS}'-]+", " "),  # punctuation, quotes, emoji and spaces: one space
    (r"^[ '-]+|[ '-]+$", ""),  # trim, with stray apostrophes and hyphens at the ends
    (r"(^| )([^ ]+)(?: \2)+(?= |$)", "$1$2"),  # a word repeated at once counts once: "stop stop" -> "stop"
)

KINDS = {"opt_out": "opt-out", "opt_in": "opt-in", "help": "help"}  # the order the workflow asks in
# The workflow's Branch steps of each kind are named <prefix>_1, <prefix>_2, ... (helpers/workflow.py)
KEYWORD_STEPS = {"opt_out": "opt_out_keywords", "opt_in": "opt_in_keywords", "help": "help_keywords"}
_SEPARATOR = "\x00"  # inside a keyword: a space or hyphen, or nothing ("opt out", "opt-out", "optout")


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKD", text.lower())


_FOLD_TABLE = str.maketrans(FOLDED)


def normalise(text: str | None) -> str:
    """A message as the policy reads it (the same steps as the deployed JavaScript)."""
    text = _fold(text or "").translate(_FOLD_TABLE)
    for pattern, replacement in NORMALISE_STEPS:
        text = re.sub(pattern, re.sub(r"\$(\d)", r"\\\1", replacement), text)
    return text


def _normalise_phrase(pattern: str) -> str:
    """A phrase's pattern read as messages are: decomposed, FOLDED, its marks dropped (the first
    NORMALISE_STEPS pattern), so that "присылайте" in a pack meets "присылаите" in a message."""
    marks, dropped = NORMALISE_STEPS[0]
    return re.sub(marks, dropped, unicodedata.normalize("NFKD", pattern).translate(_FOLD_TABLE))


def typo_variants(word: str) -> set[str]:
    """The bounded typos of a normalised keyword: one swap of neighbouring letters or one doubled
    letter from four letters up ("stpo", "stopp"), one missing letter (not the first) from eight
    up ("unsubcribe"). Only single words of plain letters; never the word itself."""
    if not re.fullmatch(r"[a-z]{4,}", word):
        return set()
    variants = {word[:i] + word[i + 1] + word[i] + word[i + 2 :] for i in range(len(word) - 1)}
    variants |= {word[: i + 1] + word[i] + word[i + 1 :] for i in range(len(word))}
    if len(word) >= 8:
        variants |= {word[:i] + word[i + 1 :] for i in range(1, len(word))}
    variants.discard(word)
    return variants


def _keyword(word: str) -> str:
    """A keyword as a key of the trie: normalised, its inner spaces and hyphens as _SEPARATOR."""
    return re.sub(r"[\s-]+", _SEPARATOR, normalise(word))


_SPECIAL = set("\\^$.|?*+()[]{}/-")


def _atom(char: str) -> str:
    if char == _SEPARATOR:
        return r"[\s-]?"
    return "\\" + char if char in _SPECIAL else char


def _trie_pattern(words: Iterable[str]) -> str:
    """One regular expression for a word list, shared prefixes written once: compact enough that
    hundreds of keywords and typos fit in a few 1000-character scripts. Sorted: the same text in
    every process."""
    trie: dict = {}
    for word in words:
        node = trie
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}
    pattern, _ = _emit(trie)
    return pattern or "(?!)"


def _emit(node: dict) -> tuple[str, bool]:
    """(pattern, is one atom) for the words below ``node``."""
    ends = "" in node
    children = sorted((char, child) for char, child in node.items() if char)
    if not children:
        return "", True
    leaves = [c for c, child in children if list(child) == [""] and c != _SEPARATOR]
    alternatives = []
    if len(leaves) > 1:  # single last letters: one character class
        alternatives.append("[" + "".join("\\" + c if c in "\\]^-" else c for c in leaves) + "]")
    else:
        leaves = []
    for char, child in children:
        if char in leaves:
            continue
        rest, _ = _emit(child)
        alternatives.append(_atom(char) + rest)
    if len(alternatives) == 1:
        body = alternatives[0]
        atom = _is_atom(body)
    else:
        body, atom = "(?:" + "|".join(alternatives) + ")", True
    if ends:
        return (body + "?" if atom else "(?:" + body + ")?"), True
    return body, atom


def _is_atom(body: str) -> bool:
    """Whether a pattern is one atom, which a quantifier may follow without a group: a character,
    an escaped character, or one character class (not the optional separator)."""
    one_class = body.startswith("[") and body.endswith("]") and body.count("[") == 1 and not body.endswith("?]")
    return (len(body) == 1 or one_class or (len(body) == 2 and body[0] == "\\")) and body != r"[\s-]?"


@dataclass(frozen=True)
class _Unit:
    """Alternatives that go into one script together, from one language pack."""

    language: str
    pattern: str


@dataclass(frozen=True)
class KeywordPolicy:
    """The keywords of the chosen languages (ISO 639-1 codes; English is always in).

    ``extra_opt_out_words`` adds an operator's own words (with English courtesy words and typos);
    ``packs`` replaces the language packs altogether (custom or test policies)."""

    languages: tuple[str, ...] = DEFAULT_LANGUAGES
    extra_opt_out_words: tuple[str, ...] = ()
    packs: tuple[LanguagePack, ...] | None = None
    _compiled: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self):
        if self.packs is None:
            object.__setattr__(self, "languages", parse_languages(self.languages))
            packs = packs_for(self.languages)
        else:
            packs = tuple(self.packs)
            object.__setattr__(self, "languages", tuple(p.code for p in packs))
        if self.extra_opt_out_words:
            extra = tuple(str(w) for w in self.extra_opt_out_words if str(w).strip())
            packs = (replace(packs[0], opt_out_words=packs[0].opt_out_words + extra), *packs[1:])
        object.__setattr__(self, "packs", packs)
        words = {kind: {_keyword(w) for p in packs for w in self._words(p, kind)} for kind in KINDS}
        overlap = words["opt_out"] & words["opt_in"]
        if overlap:
            raise BadInput(f"words cannot be both opt-out and opt-in: {', '.join(sorted(overlap))}")
        helping = words["help"] & (words["opt_out"] | words["opt_in"])
        if helping:
            raise BadInput(f"help words cannot be opt-out or opt-in words too: {', '.join(sorted(helping))}")
        # No typo may become a word of another kind, or an everyday word of any known language.
        self._compiled["taken"] = (
            words["opt_in"]
            | words["help"]
            | {
                _keyword(w)
                for p in (*PACKS.values(), *packs)
                for w in (*p.look_alikes, *p.opt_in_words, *p.help_words, *p.courtesy_words)
            }
        )
        for kind in KINDS:
            self._compiled[kind] = re.compile(self.pattern(kind))

    @staticmethod
    def _words(pack: LanguagePack, kind: str) -> tuple[str, ...]:
        return {
            "opt_out": pack.opt_out_words + pack.ordinary_words,
            "opt_in": pack.opt_in_words,
            "help": pack.help_words,
        }[kind]

    def variants(self, pack: LanguagePack) -> dict[str, set[str]]:
        """Each opt-out word of ``pack`` (not its ordinary words) and the typos that count as it."""
        taken = self._compiled["taken"]
        own = {_keyword(w) for w in pack.opt_out_words + pack.ordinary_words}
        return {
            word: {v for v in typo_variants(word) if v not in taken and v not in own}
            for word in sorted({_keyword(w) for w in pack.opt_out_words})
        }

    # --- the shared definition -------------------------------------------------------
    def pattern(self, kind: str = "opt_out") -> str:
        """The regular expression a normalised message must match in full."""
        return _alternation([u.pattern for u in self._units(kind)])

    # --- Python --------------------------------------------------------------------------
    normalise = staticmethod(normalise)

    def is_opt_out(self, text: str | None) -> bool:
        return bool(self._compiled["opt_out"].match(normalise(text)))

    def is_opt_in(self, text: str | None) -> bool:
        return bool(self._compiled["opt_in"].match(normalise(text)))

    def is_help(self, text: str | None) -> bool:
        return bool(self._compiled["help"].match(normalise(text)))

    def opt_out_languages(self, text: str | None) -> set[str]:
        """The languages (pack codes) whose opt-out words, typos or phrases take ``text``. A pack's
        alternatives do not depend on the other packs chosen (what typos may not become is every
        known pack's words), so this answers for each pack what its own policy would."""
        key = ("by language", "opt_out")
        if key not in self._compiled:
            units = self._units("opt_out")
            self._compiled[key] = {
                code: re.compile(_alternation([u.pattern for u in units if u.language == code]))
                for code in dict.fromkeys(u.language for u in units)
            }
        normalised = normalise(text)
        return {code for code, pattern in self._compiled[key].items() if pattern.match(normalised)}

    def classify(self, text: str | None) -> str:
        """'opt-out', 'opt-in', 'help' or 'other', in the order the workflow's Branch steps ask."""
        normalised = normalise(text)
        return next((label for kind, label in KINDS.items() if self._compiled[kind].match(normalised)), "other")

    # --- JavaScript ------------------------------------------------------------------------
    def js_conditions(self, kind: str = "opt_out", channel: str = "WhatsApp") -> list[str]:
        """The Branch conditions for ``kind``: ``{{ }}`` scripts within 8x8's rules, true for a message
        of the kind when any one of them is. A policy too large for one script (1000 characters)
        is spread over several, each a pure expression (no declarations, assignments or ``new``).
        """
        return ["{{" + _script(message_source(channel), units) + "}}" for units in self._packed(kind, channel)]

    def _packed(self, kind: str, channel: str) -> list[list[str]]:
        """The units of ``kind`` packed into scripts, in order: each list is one script's alternatives."""
        key = ("packed", kind, channel.lower())
        if key in self._compiled:
            return self._compiled[key]
        source = message_source(channel)
        scripts: list[list[str]] = []
        pending: list[str] = []
        for unit in self._units(kind):
            if pending and js_length(_script(source, [*pending, unit.pattern])) > MAX_SCRIPT_LENGTH:
                scripts.append(pending)
                pending = []
            pending.append(unit.pattern)
        if pending:
            scripts.append(pending)
        too_long = [s for s in scripts if js_length(_script(source, s)) > MAX_SCRIPT_LENGTH]
        if too_long:
            raise BadInput(
                f"a phrase of the keyword policy does not fit in one {MAX_SCRIPT_LENGTH}-character "
                f"script ({js_length(_script(source, too_long[0]))} characters): shorten it or split it"
            )
        self._compiled[key] = scripts
        return scripts

    def _units(self, kind: str) -> list[_Unit]:
        """Each pack's alternatives, grouped into units small enough for one script each:
        ``(courtesy )*(keywords or phrases)( courtesy)*``."""
        key = ("units", kind)
        if key in self._compiled:
            return self._compiled[key]
        budget = MAX_SCRIPT_LENGTH - js_length(_script(message_source("WhatsApp"), [""])) - 10
        units = []
        for pack in self.packs or ():  # set by __post_init__
            courtesy = _trie_pattern(sorted({_keyword(w) for w in pack.courtesy_words}))
            space = r"\s?" if pack.joined else r"\s"
            wrap = f"(?:{courtesy}{space})*(?:{{}})(?:{space}{courtesy})*" if pack.courtesy_words else "{}"
            room = budget - js_length(wrap.format(""))
            words = {_keyword(w) for w in self._words(pack, kind)}
            if kind == "opt_out":
                for found in self.variants(pack).values():
                    words |= found
            alternatives = [
                *_trie_chunks(sorted(words), room),
                *(_normalise_phrase(p) for p in pack.opt_out_phrases if kind == "opt_out"),
            ]
            group: list[str] = []
            for alternative in alternatives:
                if group and js_length("|".join([*group, alternative])) > room:
                    units.append(_Unit(pack.code, wrap.format("|".join(group))))
                    group = []
                group.append(alternative)
            if group:
                units.append(_Unit(pack.code, wrap.format("|".join(group))))
        self._compiled[key] = units
        return units

    def language_table(self, channel: str = "WhatsApp") -> pd.DataFrame:
        """Per language: what is deployed (words, typos, phrases, opt-in and help words) and in how
        many of the opt-out Branch steps' scripts it sits."""
        import pandas as pd

        scripts = self._packed("opt_out", channel)
        where: dict[str, set[int]] = {}
        for unit in self._units("opt_out"):
            where.setdefault(unit.language, set()).update(
                i for i, script in enumerate(scripts, start=1) if unit.pattern in script
            )
        rows = []
        for pack in self.packs or ():  # set by __post_init__
            steps = sorted(where.get(pack.code, ()))
            rows.append(
                {
                    "language": f"{pack.code} ({pack.name})",
                    "opt-out words": len(set(pack.opt_out_words + pack.ordinary_words)),
                    "whole-message only": len(pack.ordinary_words),
                    "typo variants": sum(len(v) for v in self.variants(pack).values()),
                    "phrases": len(pack.opt_out_phrases),
                    "courtesy words": len(pack.courtesy_words),
                    "opt-in words": len(pack.opt_in_words),
                    "help words": len(pack.help_words),
                    "opt-out scripts": len(steps),
                    "Branch steps": _step_ranges(KEYWORD_STEPS["opt_out"] + "_", steps),
                }
            )
        return pd.DataFrame(rows).set_index("language")

    def js_classify(self, data: dict, channel: str = "WhatsApp", js: Expressions | None = None) -> str:
        """What the deployed Branch chain decides for ``data``, run by QuickJS: the opt-out
        conditions first, then the opt-in ones, then help, as the workflow orders them."""
        from .expressions import Expressions

        js = js or Expressions({})
        js.set("data", data)
        for kind, label in KINDS.items():
            key = ("js", kind, channel.lower())
            if key not in self._compiled:
                self._compiled[key] = self.js_conditions(kind, channel)
            if any(js.render(condition) for condition in self._compiled[key]):
                return label
        return "other"

    def classify_event(self, data: dict, channel: str = "WhatsApp") -> str:
        """What the workflow's Branch steps decide for a trigger's ``data``: any of the message's
        texts (typed text, a button's title or id, a quick-reply payload) counts."""
        texts = [normalise(t) for t in message_texts(data, channel)]
        return next(
            (label for kind, label in KINDS.items() if any(self._compiled[kind].match(t) for t in texts)), "other"
        )


def _step_ranges(prefix: str, numbers: list[int]) -> str:
    """[1, 2, 3, 7] -> 'opt_out_keywords_1-3, opt_out_keywords_7'."""
    runs: list[list[int]] = []
    for n in numbers:
        if runs and n == runs[-1][-1] + 1:
            runs[-1].append(n)
        else:
            runs.append([n])
    return ", ".join(f"{prefix}{r[0]}" + (f"-{r[-1]}" if len(r) > 1 else "") for r in runs)


def _trie_chunks(words: list[str], room: int) -> list[str]:
    """Tries of consecutive words (sorted, so shared prefixes stay together), each within ``room``."""
    chunks: list[str] = []
    current: list[str] = []
    for word in words:
        if current and js_length(_trie_pattern([*current, word])) > room:
            chunks.append(_trie_pattern(current))
            current = []
        current.append(word)
    if current:
        chunks.append(_trie_pattern(current))
    return chunks


def _alternation(alternatives: list[str]) -> str:
    return "^(?:" + "|".join(f"(?:{a})" for a in alternatives) + ")$"


# Where a channel's trigger carries the customer's words, as a JavaScript expression over a
# function ``f`` (text -> bool): ``f`` is tried on each text in turn. On WhatsApp a typed
# message is ``content.text``; a tap on a quick-reply button (WhatsApp's "Stop promotions")
# is an interactive reply whose ``title`` is the button's label and ``id`` the business's
# own id for it, or a template button's ``content.payload``. On SMS, ``payload.body``.
_MESSAGE_SOURCES = {
    "whatsapp": "(c=>(i=>[c.text,c.payload,i.title,i.id].some(f))"
    "(c.interactive?.button_reply??c.interactive?.list_reply??{}))(data.payload?.content??{})",
    "sms": "f(data.payload?.body)",
}


def message_source(channel: str) -> str:
    try:
        return _MESSAGE_SOURCES[channel.lower()]
    except KeyError:
        raise BadInput(f"unknown channel {channel!r}: use WhatsApp or SMS") from None


def message_texts(data: dict, channel: str = "WhatsApp") -> list[str]:
    """The texts ``message_source(channel)`` tries, in its order, as JavaScript's String() gives them."""

    def get(value, key):
        return value.get(key) if isinstance(value, dict) else None

    payload = get(data, "payload")
    if channel.lower() == "sms":
        return [_js_string(get(payload, "body"))]
    content = get(payload, "content")
    content = {} if content is None else content
    if isinstance(content, dict) and "interactive" not in content:  # a typed message: most runs, quicker
        text, button = content.get("text"), content.get("payload")
        return [
            text if text.__class__ is str else _js_string(text),
            button if button.__class__ is str else _js_string(button),
            "",
            "",
        ]
    interactive = get(content, "interactive")
    reply = get(interactive, "button_reply")
    reply = get(interactive, "list_reply") if reply is None else reply
    reply = {} if reply is None else reply
    return [
        _js_string(v) for v in (get(content, "text"), get(content, "payload"), get(reply, "title"), get(reply, "id"))
    ]


def _js_string(value) -> str:
    """``String(value ?? '')`` as JavaScript computes it, for JSON values."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(int(value)) if float(value).is_integer() and abs(value) < 1e21 else repr(value)
    if isinstance(value, list):
        return ",".join(_js_string(v) for v in value)
    return value if isinstance(value, str) else "[object Object]"


def _regex_literal(pattern: str, flags: str = "") -> str:
    """A JavaScript regex literal; ``\\uXXXX`` escapes are written as the characters themselves, which
    reads the same and keeps each script short (8x8 counts its 1000 characters)."""
    pattern = re.sub(r"\\u([0-9a-f]{4})", lambda m: chr(int(m.group(1), 16)), pattern)
    return "/" + pattern.replace("/", "\\/") + "/" + flags


def _js_normalise(variable: str) -> str:
    """NORMALISE_STEPS in JavaScript: a chain of String methods, no declarations."""
    steps = "".join(f".replace({_regex_literal(p, 'g')},{json.dumps(r)})" for p, r in NORMALISE_STEPS)
    source, target = "".join(FOLDED), "".join(FOLDED.values())
    fold = f".replace(/[{source}]/g,c=>{json.dumps(target, ensure_ascii=False)}[{json.dumps(source, ensure_ascii=False)}.indexOf(c)])"
    return f"String({variable}??'').toLowerCase().normalize('NFKD'){fold}{steps}"


def _script(source: str, alternatives: list[str]) -> str:
    pattern = _alternation(alternatives)
    return f"(f=>{source})(t=>{_regex_literal(pattern)}.test({_js_normalise('t')}))"


class TutorialRule:
    """The seed tutorial's rule, kept for comparison: "STOP" anywhere, case-sensitive."""

    def is_opt_out(self, text: str | None) -> bool:
        return "STOP" in (text or "")

    def js_condition(self, text_expression: str = "data.payload.content.text") -> str:
        return "{{" + f"stringContains({text_expression}, 'STOP')" + "}}"


SAMPLE_MESSAGES = (
    ("STOP", "opt-out"),
    ("stop", "opt-out"),
    ("Stop please 🙏", "opt-out"),
    ('"STOP"', "opt-out"),
    ("Unsubscribe", "opt-out"),
    ("opt-out", "opt-out"),
    ("STOP ALL", "opt-out"),
    ("please stop texting me", "opt-out"),
    ("remove me from your list", "opt-out"),
    ("don't text me anymore", "opt-out"),
    ("STPO", "opt-out"),
    ("Stop. Thank you", "opt-out"),
    ("don't stop", "other"),
    ("which bus stop?", "other"),
    ("cancel my order", "other"),
    ("the end of the month", "other"),
    ("STOPPED by the store", "other"),
    ("START", "opt-in"),
    ("UNSTOP", "opt-in"),
)


def compare_rules(
    messages: Sequence[tuple[str, str]] = SAMPLE_MESSAGES, policy: KeywordPolicy | None = None
) -> pd.DataFrame:
    """A table of what the tutorial's rule and the keyword policy (Python and JavaScript) catch."""
    import pandas as pd

    from .expressions import Expressions

    policy = policy or KeywordPolicy()
    rows = []
    js = Expressions({})
    for text, expected in messages:
        rows.append(
            {
                "message": text,
                "expected": expected,
                "tutorial rule (STOP anywhere)": TutorialRule().is_opt_out(text),
                "policy: opt-out": policy.is_opt_out(text),
                "policy: opt-out (JavaScript)": policy.js_classify({"payload": {"content": {"text": text}}}, js=js)
                == "opt-out",
                "policy: opt-in": policy.is_opt_in(text),
            }
        )
    frame = pd.DataFrame(rows)
    frame["tutorial right"] = frame["tutorial rule (STOP anywhere)"] == frame["expected"].eq("opt-out")
    frame["policy right"] = (frame["policy: opt-out"] == frame["expected"].eq("opt-out")) & (
        frame["policy: opt-in"] == frame["expected"].eq("opt-in")
    )
    return frame


@lru_cache(maxsize=1)
def every_language() -> KeywordPolicy:
    """The policy of every language pack, built once per process (its typos take 0.4 s)."""
    return KeywordPolicy(languages=tuple(PACKS))
