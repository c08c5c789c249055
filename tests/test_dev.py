"""dev.py's working copies for JupyterLab: the committed notebooks are never the ones Lab saves."""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from dev import lab_working_copies  # noqa: E402


def test_lab_serves_copies_updates_unedited_ones_and_keeps_edited_ones(tmp_path, capsys):
    target = lab_working_copies(tmp_path / "copies")
    committed = sorted(p.name for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    assert sorted(p.name for p in target.glob("*.ipynb")) == committed
    first, second = (target / committed[0]), (target / committed[1])
    assert first.read_bytes() == (ROOT / "notebooks" / committed[0]).read_bytes()
    first.write_text(first.read_text() + " ")  # the operator edits (or Lab autosaves) one copy
    # as if the committed notebook had changed since the copy, which still holds what was copied then
    second.write_text("{}")
    manifest = json.loads((target / ".copied.json").read_text())
    manifest[committed[1]] = hashlib.sha256(b"{}").hexdigest()
    (target / ".copied.json").write_text(json.dumps(manifest))
    lab_working_copies(target)
    assert first.read_text().endswith(" ")  # edited: kept, and said
    assert "kept your edited copies of " + committed[0] in capsys.readouterr().out
    assert second.read_bytes() == (ROOT / "notebooks" / committed[1]).read_bytes()  # unedited: brought up to date
