"""A notebook's results as named values, for whoever runs it as a job (a test, a scheduler, CI).

A notebook calls ``record(plan=run.values())``; the values are stored in the executed notebook
as one output of the mimetype :data:`MIME` (JSON), beside a one-line text a person sees. A job
reads them back with ``recorded(notebook)`` (a path, or the notebook papermill answers), instead
of matching the prose the notebook prints: the prose is for people and may be reworded; the
values are the contract. (scrapbook's idea, without its dependencies.)
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

MIME = "application/vnd.opt-out-runbook.record+json"


def record(**values: Any) -> None:
    """Show ``values`` in the notebook as one recorded output (JSON: what the notebook file keeps)."""
    from IPython.display import display

    data = json.loads(json.dumps(values, default=_plain))
    display({MIME: data, "text/plain": "Recorded for jobs: " + ", ".join(data)}, raw=True)


def _plain(value: Any) -> Any:
    """JSON for what json cannot write: a table as its rows (a named index as a column), a numpy
    number as the number, anything else as its text."""
    if hasattr(value, "to_dict") and hasattr(value, "reset_index"):  # a pandas DataFrame
        return (value.reset_index() if value.index.name else value).to_dict("records")
    if hasattr(value, "item"):  # a numpy scalar
        return value.item()
    return str(value)


def recorded(notebook: str | Path | dict) -> dict[str, Any]:
    """Every value an executed notebook recorded (a later record of a name replaces an earlier one)."""
    if isinstance(notebook, (str, Path)):
        notebook = json.loads(Path(notebook).read_text(encoding="utf-8"))
    assert isinstance(notebook, dict)
    values: dict[str, Any] = {}
    for cell in notebook.get("cells", []):
        for output in cell.get("outputs", []):
            values.update(output.get("data", {}).get(MIME, {}))
    return values
