"""Where the runbook's files go: runs/ (executed notebooks, Builder JSON) and reports/ (reports,
journals, the check's checkpoint), under the project or EIGHTXEIGHT_OUTPUT_DIR (the tests' own folder);
and the lock files that keep two runs of one job apart (:class:`ExclusiveLock`).

A leaf of the library: the commands, the notebook glue and the library modules that write files
all read their places here, so that no library module reaches up into the notebook glue.
"""
from __future__ import annotations

import fcntl
import hashlib
import os
import stat
import tempfile
from datetime import UTC, datetime
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
        raise RunInProgress(f"{folder} is not a private folder of this user's (owner uid {held.st_uid}, mode "
                            f"{stat.filemode(held.st_mode)}): another user may have made it. Remove it, then run this "
                            "again. Nothing was changed.")
    return folder


class ExclusiveLock:
    """An exclusive, non-blocking ``flock`` on a file of :func:`lock_folder` named by ``key`` (one
    platform, account and whatever it guards). The holder writes what it is doing, its pid and
    since when, so that a refused run can say who holds it; the kernel drops the lock when the
    holder exits, killed or not, so a crash never leaves it stuck."""

    def __init__(self, key: str, name: str, what: str):
        self.path = lock_folder() / f"{hashlib.sha256(key.encode()).hexdigest()[:16]}-{name}.lock"
        self.what = what
        self._fd: int | None = None

    def refusal(self, holder: str) -> RunInProgress:
        """The error for the run refused (``holder``: what the holder wrote); subclasses say more."""
        return RunInProgress(f"another run holds {self.path.name} ({holder}): wait for it to finish, then run this "
                             "again. Nothing was changed by this run.")

    def __enter__(self):
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 1000).decode("utf-8", "replace").strip() or "another process"
            os.close(fd)
            raise self.refusal(holder) from None
        os.ftruncate(fd, 0)
        since = datetime.now(UTC).isoformat(timespec="seconds")
        os.write(fd, f"{self.what}, pid {os.getpid()}, since {since}".encode())
        self._fd = fd
        return self

    def __exit__(self, *exc) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
