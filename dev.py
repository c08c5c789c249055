#!/usr/bin/env python3
"""Set up and run the runbook with nothing but Python installed.

    python3 dev.py runbook   # the main job: every notebook on the sandbox, into runs/<time>/
    python3 dev.py test      # every test: unit, integration, and pytest --nbval on the notebooks

Each command first makes .venv and installs requirements.txt into it (again only when
requirements.txt changed), then runs inside it. Extra arguments go to the job or to pytest.
"""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
PYTHON = VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
STAMP = VENV / ".requirements.sha256"


def ensure_environment() -> None:
    wanted = hashlib.sha256((ROOT / "requirements.txt").read_bytes()).hexdigest()
    if PYTHON.exists() and STAMP.exists() and STAMP.read_text().strip() == wanted:
        return
    if not PYTHON.exists():
        print(f"dev.py: creating the virtual environment in {VENV}", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    print("dev.py: installing requirements.txt (first run takes a few minutes)", flush=True)
    subprocess.run([str(PYTHON), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                    "-r", str(ROOT / "requirements.txt")], check=True)
    STAMP.write_text(wanted)


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("runbook", "test"):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    command, rest = argv[0], argv[1:]
    ensure_environment()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONDONTWRITEBYTECODE": "1"}
    if command == "runbook":
        args = [str(PYTHON), "-m", "helpers", "runbook", *rest]
    else:
        args = [str(PYTHON), "-m", "pytest", *rest]
    return subprocess.run(args, cwd=ROOT, env=env).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
