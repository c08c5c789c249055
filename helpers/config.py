"""Settings for the runbook: read from the environment and an optional ``.env`` file.

No API key means sandbox mode: the runbook talks to the embedded 8x8 sandbox (or to
``EIGHTXEIGHT_BASE_URL`` when one is running elsewhere). The key itself is held in a
:class:`Secret`, whose ``str`` and ``repr`` never show it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from dotenv import dotenv_values

from .errors import BadInput, ConfigError, SecretNotPicklable
from .languages import DEFAULT_LANGUAGES, parse_languages

# Documented base URLs per region (../shared/8x8-api/NOTES.md). 8x8 documents the
# Automation host for Asia-Pacific only; other regions use it too.
REGIONS: dict[str, dict[str, str]] = {
    "asia": {
        "contacts": "https://contacts.8x8.com",
        "chatapps": "https://chatapps.8x8.com",
        "automation": "https://automation.8x8.com",
    },
    "us": {
        "contacts": "https://contacts.us.8x8.com",
        "chatapps": "https://chatapps.us.8x8.com",
        "automation": "https://automation.8x8.com",
    },
    "europe": {
        "contacts": "https://contacts.8x8.uk",
        "chatapps": "https://chatapps.8x8.uk",
        "automation": "https://automation.8x8.com",
    },
    "indonesia": {
        "contacts": "https://contacts.8x8.id",
        "chatapps": "https://chatapps.8x8.id",
        "automation": "https://automation.8x8.com",
    },
}
APIS = ("contacts", "chatapps", "automation")

# Values used when no key is set. They name the sandbox's own account; they are not secrets.
SANDBOX_API_KEY = "sandbox-api-key"
SANDBOX_ACCOUNT_ID = "sandbox-account"
SANDBOX_SUBACCOUNT_ID = "sandbox-subaccount"
SANDBOX_ACCOUNT_UUID = "5a9b3c1e-7d2f-4e8a-9b6c-0d1e2f3a4b5c"  # the sandbox's half of sandbox/defaults.py

# What is deployed, when no setting says otherwise (EIGHTXEIGHT_BRAND_NAME, ..._SUPPORT_CONTACT, ...).
DEFAULT_NAME = "Opt-out keyword"
DEFAULT_CHANNELS = ("WhatsApp", "SMS")
DEFAULT_BRAND = "Our team"
DEFAULT_SUPPORT = "our support team"
# Notebook 04's test numbers: this prefix and three digits. On the sandbox, real-looking Singapore
# mobiles (nothing reaches anyone there); on 8x8 Ofcom's drama range +44 7700 900000-900999, set
# aside for fiction: no customer can have one (helpers.testnumbers).
SANDBOX_TEST_PREFIX = "+6591000"
FICTION_TEST_PREFIX = "+447700900"

PROJECT_ROOT = Path(__file__).resolve().parents[1]
# Where the set-up form saves the settings (git-ignored); EIGHTXEIGHT_ENV_FILE moves it (the browser test).
ENV_FILE = Path(os.environ.get("EIGHTXEIGHT_ENV_FILE") or PROJECT_ROOT / ".env")
ENV_PREFIX = "EIGHTXEIGHT_"
SETTINGS_DOC = {
    "EIGHTXEIGHT_API_KEY": "API key from the API Keys page of 8x8 Connect. Unset: sandbox mode.",
    "EIGHTXEIGHT_ACCOUNT_ID": f"8x8 account id (or account name). Sandbox default: {SANDBOX_ACCOUNT_ID}.",
    "EIGHTXEIGHT_ACCOUNT_UUID": "The account's UUID (8x8 Connect, account settings), which the Messaging Apps "
    "management API takes as accountId: read WhatsApp templates with it "
    f"(python -m helpers templates). Sandbox default: {SANDBOX_ACCOUNT_UUID}.",
    "EIGHTXEIGHT_SUBACCOUNT_ID": f"Subaccount that receives the customers' messages. Sandbox default: {SANDBOX_SUBACCOUNT_ID}.",
    "EIGHTXEIGHT_REGION": "asia (default), us, europe or indonesia: picks the documented base URLs.",
    "EIGHTXEIGHT_BASE_URL": "One base URL for every API: a running sandbox or a proxy. Overrides the region.",
    "EIGHTXEIGHT_LANGUAGES": "Languages of the opt-out keywords the workflows deploy: ISO 639-1 codes separated by "
    "commas, e.g. en,es,zh (default en; English is always in).",
    "EIGHTXEIGHT_OPT_OUT_LIST": "account (default): opt-outs go to the account-wide blacklisted group, which 8x8 "
    "enforces on every subaccount; subaccount: to this subaccount's own list, the "
    "group 'Opt-out: <subaccount>', which only the audience check enforces.",
    "EIGHTXEIGHT_BRAND_NAME": f"Your brand, named in the answer to HELP (default {DEFAULT_BRAND!r}: a placeholder "
    "the sandbox allows and 8x8 deploys refuse).",
    "EIGHTXEIGHT_SUPPORT_CONTACT": f"Your support contact, named in the answer to HELP, e.g. 'support@example.com' "
    f"(default {DEFAULT_SUPPORT!r}: a placeholder, refused on 8x8).",
    "EIGHTXEIGHT_WORKFLOW_NAME": f"The opt-out workflows' name in the Automation Builder (default {DEFAULT_NAME!r}).",
    "EIGHTXEIGHT_CHANNELS": "The opt-out workflows deployed, one each: WhatsApp (Messaging Apps: WhatsApp, Viber, "
    "RCS) and SMS, separated by commas (default WhatsApp,SMS).",
    "EIGHTXEIGHT_OPT_OUT_GROUP": "The opt-out group's exact name, when it is not the list's own (an existing "
    "blacklisted group to adopt). Default: 'WhatsApp opt-out' (account) or "
    "'Opt-out: <subaccount>' (subaccount).",
    "EIGHTXEIGHT_TEST_NUMBER_PREFIX": "Test messages (notebook 04) come from this prefix and three digits. Default: "
    f"{SANDBOX_TEST_PREFIX} on the sandbox; on 8x8 {FICTION_TEST_PREFIX}, Ofcom's "
    "range for drama, which no customer has. On 8x8 give a prefix of numbers that "
    "are yours: any other number is refused before a message is sent.",
    "EIGHTXEIGHT_PARALLEL_REQUESTS": "Requests in flight at once for page reads and bulk chunks (1..16; default "
    "4; one at a time after a 429).",
    "EIGHTXEIGHT_HONOUR_WITHIN_BUSINESS_DAYS": "Deadline for an opt-out to be in the group, in business days "
    "(Mon-Fri; default 5: Australia's Spam Act, stricter than the "
    "US FCC's 10). The ledger flags rows past it.",
    "EIGHTXEIGHT_CONFIRM_WITHIN_MINUTES": "Deadline for the one opt-out confirmation, in minutes (default 5: the "
    "US FCC rule of 2025-04-11). The ledger flags rows past it.",
}
# The deadlines in force (../shared/8x8-api/NOTES.md, "Deadlines in force"): the stricter reading
# as default, so that a ledger that says "in time" is in time under both rules.
DEFAULT_HONOUR_BUSINESS_DAYS = 5  # Spam Act (AU): 5 working days; FCC (US): 10 business days
DEFAULT_CONFIRM_MINUTES = 5  # FCC (US): at most one confirmation, within 5 minutes


# Read elsewhere, not settings of the connection: set by the runbook job, the tests and maintainers.
OTHER_VARIABLES_DOC = {
    "EIGHTXEIGHT_API_DEFINITIONS": "The folder of 8x8's OpenAPI files and examples, for the schema checks and the "
    "contract tests (default ../shared/8x8-api; helpers.openapi).",
    "EIGHTXEIGHT_ENV_FILE": "The settings file the set-up form and deploy --apply write (default .env; each test has "
    "its own).",
    "EIGHTXEIGHT_SANDBOX": "'fresh': a fresh in-process deterministic sandbox per run instead of the shared local one "
    "(the tests, the committed outputs' refresh).",
    "EIGHTXEIGHT_SANDBOX_DIR": "The local sandbox's folder (default .sandbox/; a test's own, never the operator's).",
    "EIGHTXEIGHT_SANDBOX_NOTEBOOK": "The notebook a fresh sandbox is for: it finds what the notebooks before it "
    "leave (runbook.LEFT_BY_EARLIER_NOTEBOOKS).",
    "EIGHTXEIGHT_OUTPUT_DIR": "Where runs/ and reports/ go (default: the project; the tests point it away from the "
    "operator's).",
    "EIGHTXEIGHT_RUN_DIR": "The runbook job's folder for this run, where the notebooks write their files (set by the "
    "job for its kernels).",
}
OTHER_VARIABLES = tuple(OTHER_VARIABLES_DOC)


OPT_OUT_LISTS = ("account", "subaccount")  # where a subaccount's opt-outs go (EIGHTXEIGHT_OPT_OUT_LIST)

DEFAULT_PARALLEL = 4
MAX_PARALLEL = 16


def check_opt_out_list(value: object) -> str:
    text = str(value).strip().lower()
    if text not in OPT_OUT_LISTS:
        raise ConfigError(
            f"The opt-out list is account or subaccount, not {value!r} (EIGHTXEIGHT_OPT_OUT_LIST or --opt-out-list)."
        )
    return text


def check_parallel(value: object) -> int:
    """1..MAX_PARALLEL requests at once; anything else is a clear error."""
    try:
        number = int(str(value).strip())
    except ValueError:
        number = 0
    if not 1 <= number <= MAX_PARALLEL:
        raise ConfigError(
            f"Parallel requests must be a whole number from 1 to {MAX_PARALLEL}, not {value!r} "
            "(EIGHTXEIGHT_PARALLEL_REQUESTS or --parallel)."
        )
    return number


class Secret:
    """A string that never shows itself in ``str``, ``repr``, f-strings or logs."""

    __slots__ = ("_value",)

    def __init__(self, value: str):
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __repr__(self) -> str:
        return "Secret('********')" if self._value else "Secret('')"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return repr(self)

    def __reduce__(self):  # refuse to be pickled into files or caches
        raise SecretNotPicklable("the API key cannot be pickled: it is kept in memory and in .env only")


@dataclass(frozen=True)
class Settings:
    api_key: Secret = field(default_factory=lambda: Secret(""))
    account_id: str = SANDBOX_ACCOUNT_ID
    subaccount_id: str = SANDBOX_SUBACCOUNT_ID
    region: str = "asia"
    base_url: str | None = None
    parallel: int = DEFAULT_PARALLEL  # requests in flight at once for page reads and chunks
    languages: tuple[str, ...] = DEFAULT_LANGUAGES  # the keyword policy's language packs (helpers/languages.py)
    honour_business_days: int = DEFAULT_HONOUR_BUSINESS_DAYS
    confirm_minutes: int = DEFAULT_CONFIRM_MINUTES
    opt_out_list: str = "account"  # "account": the blacklisted group; "subaccount": the subaccount's own list
    account_uuid: str = ""  # the management API's accountId (WhatsApp templates); empty: not set
    # what deploy builds, check compares, and the notebooks take unless given another value
    brand: str = DEFAULT_BRAND
    support: str = DEFAULT_SUPPORT
    workflow_name: str = DEFAULT_NAME
    channels: tuple[str, ...] = DEFAULT_CHANNELS
    opt_out_group: str | None = None  # None: the list's own group (groups.opt_out_list_name)
    test_prefix_setting: str = ""  # EIGHTXEIGHT_TEST_NUMBER_PREFIX as given ("": the default for the platform)

    @property
    def test_number_prefix(self) -> str:
        """Where notebook 04's test numbers come from: the setting, else the sandbox's range or (on 8x8)
        the range set aside for fiction."""
        return self.test_prefix_setting or (SANDBOX_TEST_PREFIX if self.sandbox_mode else FICTION_TEST_PREFIX)

    @property
    def sandbox_mode(self) -> bool:
        """True when no API key is set: the runbook runs on the sandbox."""
        return not self.api_key

    @property
    def platform_name(self) -> str:
        """Where answers come from, as said to people: "the sandbox" without a key, else "8x8"."""
        return "the sandbox" if self.sandbox_mode else "8x8"

    @property
    def needs_embedded_sandbox(self) -> bool:
        """Sandbox mode with nowhere to point: start the embedded sandbox."""
        return self.sandbox_mode and not self.base_url

    def bearer_token(self) -> str:
        return SANDBOX_API_KEY if self.sandbox_mode else self.api_key.reveal()

    def base_urls(self) -> dict[str, str]:
        """Base URL of each API (contacts, chatapps, automation)."""
        if self.base_url:
            return {api: self.base_url for api in APIS}
        return dict(REGIONS[self.region])

    def for_subaccount(self, subaccount_id: str | None = None, opt_out_list: str | None = None) -> Settings:
        """The same connection for another subaccount of the account, and/or another opt-out list."""
        return replace(
            self,
            subaccount_id=subaccount_id or self.subaccount_id,
            opt_out_list=check_opt_out_list(opt_out_list or self.opt_out_list),
        )

    def for_group(self, name: str | None) -> Settings:
        """The same settings with another EIGHTXEIGHT_OPT_OUT_GROUP (None: the list's own group)."""
        return replace(self, opt_out_group=name or None)

    def with_parallel(self, parallel: int | None) -> Settings:
        return self if parallel is None else replace(self, parallel=check_parallel(parallel))

    def on_platform(self) -> Settings:
        """The same settings addressed to 8x8's own hosts for the region (no sandbox or proxy URL)."""
        return replace(self, base_url=None)

    def with_base_url(self, base_url: str) -> Settings:
        return replace(self, base_url=base_url.rstrip("/"))

    def describe(self) -> str:
        """One plain line saying where the runbook is talking to; safe to print."""
        if self.sandbox_mode:
            where = self.base_url or "the embedded sandbox"
            return (
                f"SANDBOX MODE: no EIGHTXEIGHT_API_KEY is set, so nothing reaches 8x8. "
                f"Talking to {where} as account {self.account_id!r}, subaccount {self.subaccount_id!r}."
            )
        where = self.base_url or f"8x8 region {self.region!r} ({self.base_urls()['contacts']})"
        return (
            f"LIVE MODE: API key set (hidden). Talking to {where} as account "
            f"{self.account_id!r}, subaccount {self.subaccount_id!r}."
        )


_URL = re.compile(r"^https?://[^\s/]+(/[^\s]*)?$")


def load_settings(env: Mapping[str, str] | None = None, env_file: str | Path | None = ".env") -> Settings:
    """Read the settings. The process environment wins over the ``.env`` file.

    ``env`` replaces ``os.environ`` (tests); ``env_file=None`` skips the file.
    """
    values = _read_values(env, env_file)

    def get(name: str) -> str:
        return (values.get(ENV_PREFIX + name) or "").strip()

    key = get("API_KEY")
    account, subaccount = _account(key, get("ACCOUNT_ID"), get("SUBACCOUNT_ID"))
    try:
        languages = parse_languages(get("LANGUAGES") or None)
    except BadInput as exc:
        raise ConfigError(f"EIGHTXEIGHT_LANGUAGES: {exc}.") from None
    deadlines = {
        name: _whole_number(get(name), default, name, upper)
        for name, default, upper in (
            ("HONOUR_WITHIN_BUSINESS_DAYS", DEFAULT_HONOUR_BUSINESS_DAYS, 60),
            ("CONFIRM_WITHIN_MINUTES", DEFAULT_CONFIRM_MINUTES, 24 * 60),
        )
    }
    return Settings(
        honour_business_days=deadlines["HONOUR_WITHIN_BUSINESS_DAYS"],
        confirm_minutes=deadlines["CONFIRM_WITHIN_MINUTES"],
        api_key=Secret(key),
        account_id=account or SANDBOX_ACCOUNT_ID,
        subaccount_id=subaccount or SANDBOX_SUBACCOUNT_ID,
        region=_region(get("REGION")),
        base_url=_base_url(get("BASE_URL")),
        parallel=check_parallel(get("PARALLEL_REQUESTS") or DEFAULT_PARALLEL),
        languages=languages,
        opt_out_list=check_opt_out_list(get("OPT_OUT_LIST") or "account"),
        account_uuid=get("ACCOUNT_UUID") or ("" if key else SANDBOX_ACCOUNT_UUID),
        brand=get("BRAND_NAME") or DEFAULT_BRAND,
        support=get("SUPPORT_CONTACT") or DEFAULT_SUPPORT,
        workflow_name=get("WORKFLOW_NAME") or DEFAULT_NAME,
        channels=parse_channels(get("CHANNELS") or None, "EIGHTXEIGHT_CHANNELS"),
        opt_out_group=get("OPT_OUT_GROUP") or None,
        test_prefix_setting=check_test_prefix(get("TEST_NUMBER_PREFIX")),
    )


def parse_channels(value: str | Iterable[str] | None, where: str = "--channels") -> tuple[str, ...]:
    """WhatsApp and/or SMS, from a list or a comma-separated string, each once, as 8x8 spells them."""
    if value is None:
        return DEFAULT_CHANNELS
    items = [str(c).strip() for c in (value.split(",") if isinstance(value, str) else value) if str(c).strip()]
    known = {c.lower(): c for c in DEFAULT_CHANNELS}
    unknown = [c for c in items if c.lower() not in known]
    if unknown or not items:
        raise ConfigError(f"{where}: the channels are WhatsApp and/or SMS, separated by commas, not {value!r}.")
    return tuple(dict.fromkeys(known[c.lower()] for c in items))


_TEST_PREFIX = re.compile(r"\+[1-9][0-9]{4,11}")


def check_test_prefix(value: str) -> str:
    """A prefix of test numbers: + and 5 to 12 digits (three more digits make each number)."""
    text = str(value or "").strip()
    if text and not _TEST_PREFIX.fullmatch(text):
        raise ConfigError(
            f"EIGHTXEIGHT_TEST_NUMBER_PREFIX={text!r} is not a prefix of phone numbers: write + and the "
            "digits before the last three, e.g. +6591234 for +6591234000 to +6591234999."
        )
    return text


def _read_values(env: Mapping[str, str] | None, env_file: str | Path | None) -> dict[str, str]:
    """The EIGHTXEIGHT_ variables of the .env file, then of the environment (which wins); an unknown
    one is a clear error (a typo would otherwise be silently ignored)."""
    values: dict[str, str] = {}
    if env_file == ".env" and os.environ.get("EIGHTXEIGHT_ENV_FILE"):
        env_file = os.environ["EIGHTXEIGHT_ENV_FILE"]
    if env_file is not None:
        path = _find_env_file(Path(env_file))
        if path is not None:
            values.update({k: v for k, v in dotenv_values(path).items() if v is not None})
    source = os.environ if env is None else env
    values.update({k: v for k, v in source.items() if k.startswith(ENV_PREFIX)})
    unknown = sorted(
        k for k in values if k.startswith(ENV_PREFIX) and k not in SETTINGS_DOC and k not in OTHER_VARIABLES
    )
    if unknown:
        raise ConfigError(f"Unknown setting(s) {', '.join(unknown)}. Known settings: {', '.join(SETTINGS_DOC)}.")
    return values


def _region(text: str) -> str:
    region = (text or "asia").lower()
    if region not in REGIONS:
        raise ConfigError(f"EIGHTXEIGHT_REGION={region!r} is not a region. Use one of: {', '.join(REGIONS)}.")
    return region


def _base_url(text: str) -> str | None:
    base_url = text.rstrip("/") or None
    if base_url and not _URL.match(base_url):
        raise ConfigError(f"EIGHTXEIGHT_BASE_URL={base_url!r} is not an http(s) URL, e.g. http://127.0.0.1:8088.")
    return base_url


def _account(key: str, account: str, subaccount: str) -> tuple[str, str]:
    """The account and subaccount, both required with a key (the sandbox has its own)."""
    if key and not account:
        raise ConfigError(
            "EIGHTXEIGHT_API_KEY is set but EIGHTXEIGHT_ACCOUNT_ID is not. "
            "Set the account id (Connect dashboard, Account settings) or unset the key to use the sandbox."
        )
    if key and not subaccount:
        raise ConfigError(
            "EIGHTXEIGHT_API_KEY is set but EIGHTXEIGHT_SUBACCOUNT_ID is not. "
            "Set the subaccount that receives your customers' messages."
        )
    if account and "/" in account:
        raise ConfigError(f"EIGHTXEIGHT_ACCOUNT_ID={account!r} must not contain '/'.")
    return account, subaccount


def _whole_number(text: str, default: int, name: str, upper: int) -> int:
    if not text:
        return default
    if not text.isdigit() or not 1 <= int(text) <= upper:
        raise ConfigError(f"EIGHTXEIGHT_{name}={text!r} must be a whole number from 1 to {upper}.")
    return int(text)


def _find_env_file(path: Path) -> Path | None:
    """An absolute path as is; a relative one in the current folder, else in the project root
    (notebooks run with notebooks/ as their folder, jobs with the project root)."""
    candidates = [path] if path.is_absolute() else [Path.cwd() / path, PROJECT_ROOT / path]
    return next((c for c in candidates if c.is_file()), None)


# What notebook 00's form decides: the connection. The account's UUID goes with the account.
CONNECTION_VARIABLES = (
    "EIGHTXEIGHT_API_KEY",
    "EIGHTXEIGHT_ACCOUNT_ID",
    "EIGHTXEIGHT_SUBACCOUNT_ID",
    "EIGHTXEIGHT_REGION",
    "EIGHTXEIGHT_BASE_URL",
)
_SANDBOX_COMMENT = "# Sandbox mode: no EIGHTXEIGHT_API_KEY, so nothing reaches 8x8."


def write_env_file(settings: Settings, path: str | Path = ENV_FILE) -> Path:
    """Write the settings' connection to ``.env`` (git-ignored), readable by its owner only. Every
    other line the file holds (the opt-out list, the deadlines, the parallel requests, comments)
    is kept as it was. The account's UUID is kept while the account stays the same."""
    path = Path(path)
    try:
        before = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        before = []
    old_account = next((value for name, value in map(_env_line, before) if name == "EIGHTXEIGHT_ACCOUNT_ID"), None)
    replaced = set(CONNECTION_VARIABLES)
    if settings.sandbox_mode or old_account != settings.account_id:
        replaced.add("EIGHTXEIGHT_ACCOUNT_UUID")  # another account's UUID would read another's templates
    kept = [line for line in before if _env_line(line)[0] not in replaced and line.strip() != _SANDBOX_COMMENT]
    if settings.sandbox_mode:
        # No key and no account: a key added later must come with the real account, not the sandbox's.
        lines = [_SANDBOX_COMMENT, f"EIGHTXEIGHT_REGION={settings.region}"]
    else:
        lines = [
            f"EIGHTXEIGHT_API_KEY={settings.api_key.reveal()}",
            f"EIGHTXEIGHT_ACCOUNT_ID={settings.account_id}",
            f"EIGHTXEIGHT_SUBACCOUNT_ID={settings.subaccount_id}",
            f"EIGHTXEIGHT_REGION={settings.region}",
        ]
    if settings.base_url:
        lines.append(f"EIGHTXEIGHT_BASE_URL={settings.base_url}")
    if settings.languages != DEFAULT_LANGUAGES and not any(_env_line(x)[0] == "EIGHTXEIGHT_LANGUAGES" for x in kept):
        lines.append(f"EIGHTXEIGHT_LANGUAGES={','.join(settings.languages)}")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # never readable by others, not even briefly
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write("\n".join(lines + kept) + "\n")
    return path


def _env_line(line: str) -> tuple[str, str]:
    """(variable, value) of a .env line as python-dotenv reads one (``export`` allowed, quotes
    taken off), ("", "") for a comment or a blank line."""
    text = line.strip()
    if not text or text.startswith("#") or "=" not in text:
        return "", ""
    name, value = text.split("=", 1)
    name = name.strip()
    name = name[len("export") :].strip() if name.startswith("export ") else name
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        value = value[1:-1]
    return name, value


# What a deploy decides (deploy --apply, notebook 03): saved so that every command and notebook, and
# the scheduled check, work from what was deployed.
DEPLOYED_VARIABLES = (
    "EIGHTXEIGHT_BRAND_NAME",
    "EIGHTXEIGHT_SUPPORT_CONTACT",
    "EIGHTXEIGHT_WORKFLOW_NAME",
    "EIGHTXEIGHT_CHANNELS",
    "EIGHTXEIGHT_LANGUAGES",
    "EIGHTXEIGHT_OPT_OUT_GROUP",
)


def deployed_values(settings: Settings) -> dict[str, str]:
    """The settings' values of what a deploy decides, as .env lines would hold them."""
    return {
        "EIGHTXEIGHT_BRAND_NAME": settings.brand,
        "EIGHTXEIGHT_SUPPORT_CONTACT": settings.support,
        "EIGHTXEIGHT_WORKFLOW_NAME": settings.workflow_name,
        "EIGHTXEIGHT_CHANNELS": ",".join(settings.channels),
        "EIGHTXEIGHT_LANGUAGES": ",".join(settings.languages),
        "EIGHTXEIGHT_OPT_OUT_GROUP": settings.opt_out_group or "",
    }


def save_settings(values: dict[str, str], path: str | Path | None = None) -> Path:
    """Set these variables in ``.env`` (EIGHTXEIGHT_ENV_FILE, else the project's), each line replaced in
    place or added at the end; every other line and comment kept; owner-readable. A value that is
    empty removes its line (the default applies again)."""
    path = Path(path or os.environ.get("EIGHTXEIGHT_ENV_FILE") or ENV_FILE)
    unknown = sorted(set(values) - set(SETTINGS_DOC))
    if unknown:
        raise ConfigError(f"Unknown setting(s) {', '.join(unknown)}.")
    for name, value in values.items():
        if "\n" in value or "\r" in value:
            raise ConfigError(f"{name} must be one line.")
    try:
        before = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        before = []
    lines, done = [], set()
    for line in before:
        name = _env_line(line)[0]
        if name in values:
            if name not in done and values[name]:
                lines.append(f"{name}={_quoted(values[name])}")
            done.add(name)
        else:
            lines.append(line)
    lines += [f"{name}={_quoted(value)}" for name, value in values.items() if name not in done and value]
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")
    return path


def _quoted(value: str) -> str:
    """A value as python-dotenv reads it back unchanged: quoted when it holds spaces, quotes or #."""
    if value and all(c.isalnum() or c in "+-_.,:@/" for c in value):
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
