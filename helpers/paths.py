"""Where the runbook's files go: runs/ (executed notebooks, Builder JSON) and reports/ (reports,
journals, the check's checkpoint), under the project or EIGHTXEIGHT_OUTPUT_DIR (the tests' own folder);
and the lock files that keep two runs of one job apart (:class:`ExclusiveLock`).

A leaf of the library: the commands, the notebook glue and the library modules that write files
all read their places here, so that no library module reaches up into the notebook glue.
"""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

from .config import PROJECT_ROOT
from .errors import RunInProgress

ROOT = PROJECT_ROOT


def shown(path: str | Path) -> str:
    """A path for output: relative to where runs/ and reports/ go, or to the project, when inside
    them, so that outputs do not vary by clone or test run."""
    path = Path(path).resolve()
    for base in (output_root().resolve(), ROOT):
        if path.is_relative_to(base):
            return str(path.relative_to(base))
    return str(path)


def output_root() -> Path:
    """Where runs/ and reports/ go: the project, unless EIGHTXEIGHT_OUTPUT_DIR says (tests do)."""
    return Path(os.environ.get("EIGHTXEIGHT_OUTPUT_DIR") or ROOT)


def reports_folder() -> Path:
    return output_root() / "reports"


def run_folder() -> Path:
    """Where a notebook writes its files: the runbook job's folder for this run, else runs/lab/."""
    folder = Path(os.environ.get("EIGHTXEIGHT_RUN_DIR") or output_root() / "runs" / "lab")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def lock_folder() -> Path:
    """This user's folder of lock files in the temporary folder. One that another user made first
    (the temporary folder is shared) is refused: its owner could hold every lock, or swap them."""
    folder = Path(tempfile.gettempdir()) / f"eightxeight-runbook-locks-{os.getuid()}"
    folder.mkdir(mode=0o700, exist_ok=True)
    held = os.lstat(folder)
    if not stat.S_ISDIR(held.st_mode) or held.st_uid != os.getuid() or held.st_mode & 0o077:
        raise RunInProgress(
            f"{folder} is not a private folder of this user's (owner uid {held.st_uid}, mode "
            f"{stat.filemode(held.st_mode)}): another user may have made it. Remove it, then run this "
            "again. Nothing was changed."
        )
    return folder
