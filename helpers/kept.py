"""The files the health check keeps between runs, one set per platform, account and subaccount: the
opt-outs without a phone number (the audience check reads them too)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import BadInput
from .reports import write_private_json

if TYPE_CHECKING:  # for annotations only
    from .config import Settings

# --- opt-outs that no group can hold --------------------------------------------------------------
# A customer known only by a channel user id (a WhatsApp BSUID, v3 leaving the number out) cannot
# be put in any group, so neither 8x8's blacklist nor a later window of the ledger keeps their
# STOP. The health check keeps each one here, per subaccount, until the same id opts back in; the
# audience check reads it.


def file_safe(subaccount_id: str) -> str:
    """A subaccount id as part of a file name."""
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in subaccount_id)


def store_key(settings: Settings) -> str:
    """Platform, account and subaccount, as part of a file name: the check's checkpoint and kept
    opt-outs are one platform's (8x8 in a region, or the sandbox at its address), never shared by the
    local sandbox, a deterministic one and 8x8 because their subaccounts are named alike."""
    from urllib.parse import urlsplit

    where = urlsplit(settings.base_url).netloc if settings.base_url else f"8x8-{settings.region}"
    kind = "sandbox" if settings.sandbox_mode else "live"
    return file_safe(f"{kind}-{where}-{settings.account_id}-{settings.subaccount_id}")


def without_number_path(reports_dir: str | Path, settings: Settings) -> Path:
    """The kept opt-outs without a number of this platform, account and subaccount. Where only the file
    of an earlier version exists (named by subaccount alone, shared by every platform), its opt-outs
    are copied in first: kept opt-outs are never forgotten by a rename."""
    path = Path(reports_dir) / f"opt-outs-without-number-{store_key(settings)}.json"
    legacy = Path(reports_dir) / f"opt-outs-without-number-{file_safe(settings.subaccount_id)}.json"
    if not path.exists() and legacy.is_file():
        write_private_json(path, read_without_number(legacy))
    return path


def read_without_number(path: Path) -> dict[str, dict]:
    """The kept opt-outs: channel user id -> {"time", "channel"} of the STOP (none kept: empty)."""
    try:
        kept = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise BadInput(
            f"{path} cannot be read ({exc}): it keeps the opt-outs that no group can hold, so nothing is "
            "checked without it. Restore it from a backup; deleting it forgets those opt-outs."
        ) from None
    if not isinstance(kept, dict) or not all(isinstance(v, dict) for v in kept.values()):
        raise BadInput(f"{path} is not a list of kept opt-outs: restore it from a backup.")
    return kept
