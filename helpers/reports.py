"""The reports every job writes (bulk runs, the audience check, the ledger, repairs): per-row CSV,
safe to open in Excel, readable by its owner only.

Cells that a spreadsheet would run as a formula (starting with ``=``, ``+``, ``-``, ``@``, a
tab or a carriage return; OWASP's list) get a leading apostrophe, Excel's "this is text" mark.
That includes E.164 numbers (``'+6591234567``): Excel would otherwise read them as formulas
and drop the +. The reader strips that apostrophe again, so a report can be fed back in.
Reports and journals hold phone numbers: they are created with mode 0600 in folders of 0700.
Without an explicit path each run writes its own report, named with the time it started.
"""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path
from typing import IO, Any

import pandas as pd

from .errors import BadFile

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def private_open(path: Path, mode: str = "w") -> IO[str]:
    """Open a text file for writing that only its owner can read (also when it existed before)."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if mode == "a" else os.O_TRUNC)
    fd = os.open(path, flags, 0o600)
    os.fchmod(fd, 0o600)
    # errors: a lone UTF-16 surrogate (half an emoji a sender split) is written as its escape, never a
    # UnicodeEncodeError that leaves half a file
    return os.fdopen(fd, mode, encoding="utf-8", errors="backslashreplace", newline="")


def write_private_json(path: Path, data: Any) -> None:
    """Replace ``path`` with ``data`` as JSON, whole or not at all (a temporary file moved into place:
    a killed run never leaves half a file), readable by its owner only (it holds phone numbers or
    customers' ids). OSError for the caller to word."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    with private_open(temporary) as handle:
        json.dump(data, handle, indent=1, sort_keys=True)
    os.replace(temporary, path)


def neutralise(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def safe_for_spreadsheets(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for column in out.columns:
        values = out[column]
        if isinstance(values.dtype, pd.CategoricalDtype):
            out[column] = values.map(neutralise)  # maps the few categories, not every row
        elif values.dtype == object or pd.api.types.is_string_dtype(values):
            values = values.astype(object)
            try:
                risky = values.str.startswith(FORMULA_START, na=False).to_numpy(dtype=bool)  # strings only
            except AttributeError:  # pandas: no string in the column, so nothing a spreadsheet could run
                continue
            if risky.any():
                values = values.copy()
                values[risky] = "'" + values[risky]
            out[column] = values
    return out


def check_distinct(source: str | Path | None, outputs: dict[str, str | Path | None]) -> None:
    """Refuse, before anything is touched, an output (``{"the send list (--out)": path, ...}``, None: not asked)
    that is the input file ``source`` (writing it would destroy the file being read: the campaign
    list or opt-in list an operator has no other copy of) or the same file as another output (one
    would overwrite the other). The same file: one path, a symbolic link or a hard link to it."""
    named = [(flag, Path(path)) for flag, path in outputs.items() if path is not None]
    if source is not None:
        for flag, path in named:
            if _same_file(Path(source), path):
                raise BadFile(
                    f"{flag.capitalize()}, {path}, is the file being read: writing it would replace that "
                    f"file. Give {flag} another file name. Nothing was changed."
                )
    for i, (flag, path) in enumerate(named):
        for other_flag, other in named[i + 1 :]:
            if _same_file(path, other):
                raise BadFile(
                    f"{flag.capitalize()} and {other_flag} are the same file ({path}): one would "
                    "overwrite the other. Give each its own file name. Nothing was changed."
                )


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)  # both exist: links included
    except OSError:
        return a.resolve() == b.resolve()  # one not written yet: where it would be written


def check_writable(path: Path, flag: str = "--report") -> Path:
    """Refuse, before anything is read or sent, an output path (given as ``flag``) that cannot be written."""
    path = Path(path)
    if path.is_dir():
        raise BadFile(f"{flag} {path} is a folder: give a file name, e.g. {path / (flag.lstrip('-') + '.csv')}.")
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        existed = path.exists()
        with private_open(path, "a"):
            pass
        if not existed:
            path.unlink()
    except OSError as exc:
        raise BadFile(
            f"{path} cannot be written ({exc.strerror}): give a {flag} path in a folder you can write to. "
            "Nothing was changed."
        ) from None
    return path


def reserve_report(folder: Path, stem: str) -> Path:
    """A new file ``<stem>-<YYYYmmdd-HHMMSS>.csv`` in ``folder`` (-2, -3 ... when taken): one per run."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        for n in range(1, 1000):
            path = folder / f"{stem}-{stamp}{'' if n == 1 else f'-{n}'}.csv"
            try:
                os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
                return path
            except FileExistsError:
                continue
    except OSError as exc:
        raise BadFile(
            f"Reports cannot be written in {folder} ({exc.strerror}): give --report PATH in a folder you "
            "can write to. Nothing was changed."
        ) from None
    raise BadFile(f"{folder} already has 999 reports named {stem}-{stamp}: give --report PATH.")


def write_report(report: pd.DataFrame, path: str | Path) -> Path:
    """The report as CSV, whole or not at all (written beside, then moved into place)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.partial")
    try:
        with private_open(temporary) as handle:
            safe_for_spreadsheets(report).to_csv(handle, index=False)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    return path
