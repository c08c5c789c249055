"""Do the business's WhatsApp templates tell customers a way out that the deployed workflow understands?

Businesses write opt-out instructions into their marketing templates ("Reply BAJA to stop", a
quick-reply button "Stop promotions"). A template that names a word the deployed workflow does not
take (a language not in ``LANGUAGES``) loses every opt-out it invites, silently. This reads the
templates of the given WhatsApp channels (``GET /api/v1/accounts/{accountUUID}/channels/{channelId}
/templates``) and, for each, finds its way out:

- in the body or footer text, a word the template shows as one (in capitals, or quoted:
  "Reply STOP", 'Envía "BAJA"'), or, in scripts without capitals (Thai, Arabic, Devanagari, CJK),
  one of the opt-out words of the template's own language; only words that some language pack
  takes as an opt-out count (so "Reply YES to confirm" is no way out);
- a quick-reply button whose title is an opt-out ("Stop promotions").

Then it asks the deployed WhatsApp workflow itself (its Branch chain, run by QuickJS, as the audit
does) whether it takes that word, or that button tap, as an opt-out. Marketing templates without a
way out, and templates whose way out the workflow misses, are listed with what to do.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

import pandas as pd

from .client import Client
from .errors import BadInput
from .expressions import Expressions
from .languages import PACKS
from .policy import KeywordPolicy, every_language, normalise
from .workflow import deployed_workflows

_QUOTED = re.compile(r"[\"“”«»「」『』]([^\"“”«»「」『』]{1,40})[\"“”«»「」『』]|(?:^|\s)'([^']{1,40})'")
_WORD = re.compile(r"[^\W_]+(?:[-'][^\W_]+)*")
FIX_LANGUAGE = (
    "add {languages} to LANGUAGES (notebook 03) and deploy again: python -m helpers deploy --languages {all} --apply"
)
# 8x8 documents no 404 for a channel's templates: a mistyped channel id reads as a channel without any.
FIX_NONE_READ = (
    "check the channel id (Connect > Messaging Apps, the WhatsApp channel; an inbound message names it "
    "in payload.recipient.channelId): a channel without templates sends no marketing to judge, so drop it "
    "from --channel"
)
FIX_NO_WAY_OUT = (
    'add a way out the workflow understands: "Reply STOP to unsubscribe" in the footer, or a '
    'quick-reply button "Stop promotions"'
)


@dataclass
class TemplateFinding:
    channel_id: str
    template: str
    language: str
    category: str
    way_out: str  # 'text "BAJA"', 'button "Stop promotions"', or "" (none found)
    understood: bool | None  # by the deployed workflow; None: no way out to judge
    action: str = ""
    none_read: bool = False  # not a template: the channel answered none


@dataclass
class TemplateCheck:
    findings: list[TemplateFinding] = field(default_factory=list)
    languages: tuple[str, ...] = ()  # the deployed WhatsApp workflow's languages, as far as its name says

    @property
    def problems(self) -> list[TemplateFinding]:
        return [f for f in self.findings if f.action]

    @property
    def exit_code(self) -> int:
        """0: every template's way out is understood (and every marketing template has one); 1: not."""
        return 1 if self.problems else 0

    def table(self) -> pd.DataFrame:
        rows = [
            {
                "template": f.template,
                "language": f.language,
                "category": f.category,
                "way out": f.way_out or "(none)",
                "understood": {True: "yes", False: "NO", None: ""}[f.understood],
                "what to do": f.action,
            }
            for f in self.findings
        ]
        return pd.DataFrame(rows, columns=["template", "language", "category", "way out", "understood", "what to do"])

    def lines(self) -> list[str]:
        out = [f"{sum(1 for f in self.findings if not f.none_read)} template(s) read."]
        for f in self.problems:
            if f.none_read:
                out.append(f"- {f.action}.")
                continue
            out.append(
                f"- {f.template} ({f.language}, {f.category}): "
                + (f"{f.way_out}, not understood by the deployed workflow: " if f.way_out else "no way out: ")
                + f.action
                + "."
            )
        understood = sum(1 for f in self.findings if f.understood)
        out.append(
            f"Summary: {understood} way(s) out understood, {len(self.problems)} template(s) need action."
            if self.problems
            else f"Summary: ok, every way out ({understood}) is understood by the deployed workflow."
        )
        return out


def check_templates(client: Client, channel_ids: Iterable[str], *, name: str | None = None) -> TemplateCheck:
    """Read each channel's templates and judge each one's way out with the deployed WhatsApp workflow.
    WorkflowNotDeployed when there is none (nothing to judge with)."""
    channel_ids = [c for c in (channel_ids or []) if str(c).strip()]
    if not channel_ids:
        raise BadInput(
            "give the WhatsApp channel id(s) whose templates to check (--channel ID; Connect > Messaging "
            "Apps; an inbound message names it in payload.recipient.channelId)"
        )
    name = name or client.settings.workflow_name
    workflow = deployed_workflows(client, name).get("WhatsApp")
    if workflow is None:
        raise BadInput(f"no WhatsApp workflow named {name!r} is deployed: templates are WhatsApp's, run notebook 03")
    every = every_language()
    js = Expressions({})
    check = TemplateCheck()
    for channel_id in channel_ids:
        templates = client.messaging.templates(str(channel_id).strip())
        check.findings += [_judge(template, str(channel_id), every, workflow, js) for template in templates]
        if not templates:  # never "ok" over nothing read
            check.findings.append(
                TemplateFinding(
                    str(channel_id),
                    "(none)",
                    "",
                    "",
                    "",
                    None,
                    f"no template was read on channel {channel_id}: {FIX_NONE_READ}",
                    none_read=True,
                )
            )
    return check


def _judge(template: dict, channel_id: str, every: KeywordPolicy, workflow, js) -> TemplateFinding:
    category = str(template.get("category") or "").upper()
    finding = TemplateFinding(
        channel_id, str(template.get("templateName") or ""), str(template.get("language") or ""), category, "", None
    )
    ways = _ways_out(template, every)
    if not ways:
        finding.action = FIX_NO_WAY_OUT if category == "MARKETING" else ""
        return finding
    judged = [(kind, word, _understood(workflow, kind, word, js)) for kind, word in ways]
    missed = [(kind, word) for kind, word, ok in judged if not ok]
    kind, word = missed[0] if missed else judged[0][:2]
    finding.way_out, finding.understood = f'{kind} "{word}"', not missed
    finding.action = _fix([word for _, word in missed], every) if missed else ""
    return finding


def _ways_out(template: dict, every: KeywordPolicy) -> list[tuple[str, str]]:
    """("text", word) for each way out the body or footer shows, ("button", title) for each quick reply."""
    texts, buttons = [], []
    for component in template.get("components") or []:
        kind = component.get("type")
        if kind in ("BODY", "FOOTER") and isinstance(component.get("text"), str):
            texts.append(component["text"])
        elif kind == "BUTTONS":
            buttons += [
                b["text"]
                for b in component.get("buttons") or []
                if b.get("type") == "QUICK_REPLY" and isinstance(b.get("text"), str)
            ]
    ways = [("text", word) for word in _instruction_words(texts, str(template.get("language") or ""), every)]
    return ways + [("button", title) for title in buttons if every.classify(title) == "opt-out"]


def _understood(workflow, kind: str, word: str, js) -> bool:
    """Whether the deployed workflow's Branch chain takes the word (typed) or the button tap as an opt-out."""
    content = (
        {"text": word}
        if kind == "text"
        else {"interactive": {"type": "button_reply", "button_reply": {"id": "", "title": word}}}
    )
    return workflow.classify_event({"payload": {"content": content}}, js) == "opt-out"


def _fix(missed: list[str], every: KeywordPolicy) -> str:
    """What to do about ways out the workflow misses: the languages that know them, else another
    word. ``every``: the policy of every language pack (a language's words there are what its own
    policy, with English, would take: KeywordPolicy.opt_out_languages)."""
    knowing: set[str] = set()
    for word in missed:
        languages = every.opt_out_languages(word)
        knowing |= (set(PACKS) if "en" in languages else languages) - {"en"}  # English is in every policy
    if knowing:
        return FIX_LANGUAGE.format(languages=", ".join(sorted(knowing)), all=",".join(["en", *sorted(knowing)]))
    return "change the template's way out to a word the workflow takes (STOP)"


def _instruction_words(texts: list[str], language: str, every: KeywordPolicy) -> list[str]:
    """The words a template's texts show the customer as the way out, each once, in order."""
    found: list[str] = []
    pack = PACKS.get(language.split("_")[0].lower())
    for text in texts:
        candidates = [m.group(1) or m.group(2) for m in _QUOTED.finditer(text)] + _capitalised_runs(text)
        if pack is not None:  # scripts without capitals: the template language's own opt-out words
            normalised = normalise(text)
            candidates += [
                w
                for w in pack.opt_out_words + pack.ordinary_words
                if not w.isascii() and normalise(w) and normalise(w) in normalised
            ]
        found += [c for c in dict.fromkeys(candidates) if c and c not in found and every.classify(c) == "opt-out"]
    return found


def _capitalised_runs(text: str) -> list[str]:
    """Words in capitals, and runs of two or three of them: "STOP", "STOP ALL", "DE BAJA"."""
    out, run = [], []
    for word in [*_WORD.findall(text), ""]:
        if len(word) >= 2 and word.isupper():
            run.append(word)
            continue
        out += [" ".join(run[i : i + size]) for size in (3, 2, 1) for i in range(len(run) - size + 1)]
        run = []
    return out
