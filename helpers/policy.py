"""The keyword policy: which inbound messages are opt-outs (and opt-ins), in one place.

One :class:`KeywordPolicy` yields both the Python predicate (``is_opt_out``) and the
JavaScript condition that the workflow's Branch step evaluates (``js_condition``). Both run
the same steps, built from the same strings:

1. lower-case; decompose accents and drop them (ARRÊT -> arret);
2. curly apostrophes become ', and every character that is not a letter, digit, space,
   apostrophe or hyphen becomes a space (quotes, punctuation, emoji);
3. spaces collapse, the ends are trimmed, stray apostrophes at the ends go;
4. the result must be a whole keyword (optionally with courtesy words, "stop please") or a
   whole plainly worded request ("please stop texting me"). A message that only mentions a
   keyword ("which bus stop?", "cancel my order") is not an opt-out.

The regular expressions use only syntax that Python's ``re`` and ECMAScript 5 read alike
(no lookbehind, no Unicode property escapes), so the Automation engine needs nothing newer.
"""
from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass, field

from .errors import BadInput
from .scripts import MAX_SCRIPT_LENGTH, js_length

DEFAULT_OPT_OUT_WORDS = ("STOP", "STOPALL", "STOP ALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE",
                         "OPTOUT", "OPT OUT", "OPT-OUT")
DEFAULT_OPT_IN_WORDS = ("START", "UNSTOP")
# HELP is answered (who writes, how to reach support, how to stop), never an opt-out. The whole
# message must be the word (with courtesy words around it), in English and a few languages.
DEFAULT_HELP_WORDS = ("HELP", "INFO", "AIDE", "AYUDA", "HILFE", "BANTUAN", "AJUDA")
DEFAULT_COURTESY_WORDS = ("please", "now", "it")

# Plainly worded requests (US rules since April 2025 expect them honoured), matched against
# the whole normalised message. Each is a regular expression fragment.
_ME = r"(?:me|us)"
_MESSAGES = r"(?:messages?|texts?|texting|sms|whatsapps?|notifications?|marketing|promotions?|spam)"
_MORE = r"(?:\s+(?:any\s*more|ever\s+again|again|please|thanks|thank\s+you|now))*"
DEFAULT_OPT_OUT_PHRASES = (
    # please stop texting me / stop sending me messages / quit messaging us
    rf"(?:please\s+)?(?:stop|quit|cease)\s+(?:texting|messaging|sending|contacting|spamming|calling|emailing)"
    rf"(?:\s+{_ME})?(?:\s+(?:these\s+|any\s+|your\s+)?{_MESSAGES})?{_MORE}",
    # unsubscribe me / opt me out / please remove me
    rf"(?:please\s+)?(?:unsubscribe(?:\s+{_ME})?|opt\s+{_ME}\s+out|opt\s+out\s+{_ME}|remove\s+{_ME}|delete\s+{_ME}){_MORE}",
    # remove me from your list / take me off this list / unsubscribe me from this list
    rf"(?:please\s+)?(?:remove|take|unsubscribe|delete)\s+{_ME}\s+(?:off|from)(?:\s+of)?\s+"
    rf"(?:(?:your|this|the|these|all|my)\s+)?(?:(?:mailing|contact|sms|text|whatsapp|marketing)\s+)?"
    rf"(?:lists?|{_MESSAGES}){_MORE}",
    # stop promotions (WhatsApp's marketing button) / cancel all messages / unsubscribe from marketing
    rf"(?:please\s+)?(?:stop|cancel|end|unsubscribe(?:\s+from)?)\s+(?:(?:all|these|the|your|my)\s+)?{_MESSAGES}{_MORE}",
    # no more messages / no more texts please
    rf"(?:(?:please|just)\s+)?no\s+more\s+(?:(?:of\s+)?(?:these|your)\s+)?{_MESSAGES}{_MORE}",
    # don't text me anymore / do not contact me / dont message me again
    rf"(?:please\s+)?(?:don'?t|do\s+not|never)\s+(?:text|message|contact|send|sms|whatsapp|call)\s+{_ME}"
    rf"(?:\s+(?:any\s+)?{_MESSAGES})?{_MORE}",
    # i want to unsubscribe / i'd like to opt out
    rf"i(?:\s+(?:want|wish|would\s+like)\s+to|'d\s+like\s+to)\s+(?:unsubscribe|opt\s+out|stop(?:\s+{_MESSAGES})?)"
    rf"{_MORE}",
)

# Normalisation, as (pattern, replacement) pairs applied in order after lower-casing and
# accent folding. Same strings in Python and JavaScript.
_LETTERS = r"a-z0-9\u00df-\u024f\u0370-\u03ff\u0400-\u04ff\u3040-\u30ff\u4e00-\u9fff"
NORMALISE_STEPS = (
    (r"[\u0300-\u036f]", ""),          # accents left over from NFD
    (r"[\u2018\u2019\u02bc`]", "'"),    # curly apostrophes
    (rf"[^{_LETTERS}\s'-]", " "),      # punctuation, quotes, emoji
    (r"\s+", " "),
    (r"^[\s'-]+|[\s'-]+$", ""),          # trim, with stray apostrophes and hyphens at the ends
)


KINDS = {"opt_out": "opt-out", "opt_in": "opt-in", "help": "help"}  # the order the workflow asks in


def _words_pattern(words) -> str:
    """Alternatives for a word list; spaces and hyphens inside a word match either."""
    parts = []
    # Longest first (so "stop all" wins over "stop"), then alphabetical: the same text in every process.
    for word in sorted({w.strip().lower() for w in words if w.strip()}, key=lambda w: (-len(w), w)):
        tokens = [re.escape(_fold(t)) for t in re.split(r"[\s-]+", word)]
        parts.append(r"[\s-]?".join(tokens) if len(tokens) > 1 else tokens[0])
    return "(?:" + "|".join(parts) + ")" if parts else "(?!)"


def _fold(text: str) -> str:
    return unicodedata.normalize("NFD", text.lower())


@dataclass(frozen=True)
class KeywordPolicy:
    opt_out_words: tuple[str, ...] = DEFAULT_OPT_OUT_WORDS
    opt_in_words: tuple[str, ...] = DEFAULT_OPT_IN_WORDS
    help_words: tuple[str, ...] = DEFAULT_HELP_WORDS
    courtesy_words: tuple[str, ...] = DEFAULT_COURTESY_WORDS
    opt_out_phrases: tuple[str, ...] = DEFAULT_OPT_OUT_PHRASES
    _compiled: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self):
        overlap = {w.lower() for w in self.opt_out_words} & {w.lower() for w in self.opt_in_words}
        if overlap:
            raise BadInput(f"words cannot be both opt-out and opt-in: {', '.join(sorted(overlap))}")
        helping = {w.lower() for w in self.help_words} & {w.lower() for w in (*self.opt_out_words, *self.opt_in_words)}
        if helping:
            raise BadInput(f"help words cannot be opt-out or opt-in words too: {', '.join(sorted(helping))}")
        for kind in KINDS:
            self._compiled[kind] = re.compile(self.pattern(kind))

    # --- the shared definition -------------------------------------------------------
    def pattern(self, kind: str = "opt_out") -> str:
        """The regular expression a normalised message must match in full."""
        return "^(?:" + "|".join(f"(?:{a})" for a in self._units(kind)) + ")$"

    # --- Python --------------------------------------------------------------------------
    @staticmethod
    def normalise(text: str | None) -> str:
        text = _fold(text or "")
        for pattern, replacement in NORMALISE_STEPS:
            text = re.sub(pattern, replacement, text)
        return text

    def is_opt_out(self, text: str | None) -> bool:
        return bool(self._compiled["opt_out"].match(self.normalise(text)))

    def is_opt_in(self, text: str | None) -> bool:
        return bool(self._compiled["opt_in"].match(self.normalise(text)))

    def is_help(self, text: str | None) -> bool:
        return bool(self._compiled["help"].match(self.normalise(text)))

    def classify(self, text: str | None) -> str:
        """'opt-out', 'opt-in', 'help' or 'other', in the order the workflow's Branch steps ask."""
        normalised = self.normalise(text)
        return next((label for kind, label in KINDS.items() if self._compiled[kind].match(normalised)), "other")

    # --- JavaScript ------------------------------------------------------------------------
    def js_conditions(self, kind: str = "opt_out", channel: str = "WhatsApp") -> list[str]:
        """The Branch conditions for ``kind``: ``{{ }}`` scripts within 8x8's rules, true for a message
        of the kind when any one of them is. A policy too large for one script (1000 characters)
        is spread over several, each a pure expression (no declarations, assignments or ``new``).
        """
        source = message_source(channel)
        scripts, pending = [], []
        for unit in self._units(kind):
            trial = _script(source, [*pending, unit])
            if pending and js_length(trial) > MAX_SCRIPT_LENGTH:
                scripts.append(_script(source, pending))
                pending = [unit]
            else:
                pending.append(unit)
        if pending:
            scripts.append(_script(source, pending))
        too_long = [s for s in scripts if js_length(s) > MAX_SCRIPT_LENGTH]
        if too_long:
            raise BadInput(f"a phrase of the keyword policy does not fit in one {MAX_SCRIPT_LENGTH}-character "
                             f"script ({js_length(too_long[0])} characters): shorten it or split it in two")
        return ["{{" + s + "}}" for s in scripts]

    def _units(self, kind: str) -> list[str]:
        """Alternatives small enough to pack into scripts: a long word list becomes several."""
        courtesy = _words_pattern(self.courtesy_words)
        chosen = {"opt_out": self.opt_out_words, "opt_in": self.opt_in_words, "help": self.help_words}[kind]
        words = sorted({w.strip().lower() for w in chosen if w.strip()}, key=lambda w: (-len(w), w))
        budget = MAX_SCRIPT_LENGTH - js_length(_script(message_source("WhatsApp"), [""])) - 2 * len(courtesy) - 20
        groups, current = [], []
        for word in words:
            if current and len(_words_pattern(current + [word])) > budget:
                groups.append(current)
                current = []
            current.append(word)
        groups.append(current)
        keyword_units = [rf"(?:{courtesy}\s)*{_words_pattern(g)}(?:\s{courtesy})*" for g in groups]
        return [*keyword_units, *(self.opt_out_phrases if kind == "opt_out" else ())]

    def js_classify(self, data: dict, channel: str = "WhatsApp", js=None) -> str:
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
        texts = [self.normalise(t) for t in message_texts(data, channel)]
        return next((label for kind, label in KINDS.items() if any(self._compiled[kind].match(t) for t in texts)),
                    "other")


# Where a channel's trigger carries the customer's words, as a JavaScript expression over a
# function ``f`` (text -> bool): ``f`` is tried on each text in turn. On WhatsApp a typed
# message is ``content.text``; a tap on a quick-reply button (WhatsApp's "Stop promotions")
# is an interactive reply whose ``title`` is the button's label and ``id`` the business's
# own id for it, or a template button's ``content.payload``. On SMS, ``payload.body``.
_MESSAGE_SOURCES = {
    "whatsapp": "(c=>f(c.text)||f(c.payload)||(i=>f(i.title)||f(i.id))"
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
    interactive = get(content, "interactive")
    reply = get(interactive, "button_reply")
    reply = get(interactive, "list_reply") if reply is None else reply
    reply = {} if reply is None else reply
    return [_js_string(v) for v in (get(content, "text"), get(content, "payload"), get(reply, "title"), get(reply, "id"))]


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
    return "/" + pattern.replace("/", "\\/") + "/" + flags


def _js_normalise(variable: str) -> str:
    """NORMALISE_STEPS in JavaScript: a chain of String methods, no declarations."""
    steps = "".join(f".replace({_regex_literal(p, 'g')},{json.dumps(r)})" for p, r in NORMALISE_STEPS)
    return f"String({variable}??'').toLowerCase().normalize('NFD'){steps}"


def _script(source: str, alternatives: list[str]) -> str:
    pattern = "^(?:" + "|".join(f"(?:{a})" for a in alternatives) + ")$"
    return f"(f=>{source})(t=>{_regex_literal(pattern)}.test({_js_normalise('t')}))"


class TutorialRule:
    """The seed tutorial's rule, kept for comparison: "STOP" anywhere, case-sensitive."""

    def is_opt_out(self, text: str | None) -> bool:
        return "STOP" in (text or "")

    def js_condition(self, text_expression: str = "data.payload.content.text") -> str:
        return "{{" + f"stringContains({text_expression}, 'STOP')" + "}}"


SAMPLE_MESSAGES = (
    ("STOP", "opt-out"), ("stop", "opt-out"), ("Stop please 🙏", "opt-out"), ('"STOP"', "opt-out"),
    ("Unsubscribe", "opt-out"), ("opt-out", "opt-out"), ("STOP ALL", "opt-out"),
    ("please stop texting me", "opt-out"), ("remove me from your list", "opt-out"),
    ("don't text me anymore", "opt-out"), ("don't stop", "other"), ("which bus stop?", "other"),
    ("cancel my order", "other"), ("the end of the month", "other"), ("STOPPED by the store", "other"),
    ("START", "opt-in"), ("UNSTOP", "opt-in"),
)


def compare_rules(messages=SAMPLE_MESSAGES, policy: KeywordPolicy | None = None):
    """A table of what the tutorial's rule and the keyword policy (Python and JavaScript) catch."""
    import pandas as pd

    from .expressions import Expressions

    policy = policy or KeywordPolicy()
    rows = []
    js = Expressions({})
    for text, expected in messages:
        rows.append({"message": text, "expected": expected,
                     "tutorial rule (STOP anywhere)": TutorialRule().is_opt_out(text),
                     "policy: opt-out": policy.is_opt_out(text),
                     "policy: opt-out (JavaScript)": policy.js_classify(
                         {"payload": {"content": {"text": text}}}, js=js) == "opt-out",
                     "policy: opt-in": policy.is_opt_in(text)})
    frame = pd.DataFrame(rows)
    frame["tutorial right"] = frame["tutorial rule (STOP anywhere)"] == frame["expected"].eq("opt-out")
    frame["policy right"] = (frame["policy: opt-out"] == frame["expected"].eq("opt-out")) & (
        frame["policy: opt-in"] == frame["expected"].eq("opt-in"))
    return frame
