#!/usr/bin/env python3
"""Set up and run the runbook with nothing but Python installed.

    python3 dev.py runbook   # the main job: every notebook on the sandbox, into runs/<time>/
    python3 dev.py test      # every test: unit, integration, and pytest --nbval on the notebooks
    python3 dev.py lab       # JupyterLab on the notebooks, to follow the runbook by hand

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
    wanted = hashlib.sha256((ROOT / "requirements.txt").read_bytes() + (ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if PYTHON.exists() and STAMP.exists() and STAMP.read_text().strip() == wanted:
        return
    if not PYTHON.exists():
        print(f"dev.py: creating the virtual environment in {VENV}", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    print("dev.py: installing requirements.txt (first run takes a few minutes)", flush=True)
    pip = [str(PYTHON), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*pip, "-r", str(ROOT / "requirements.txt")], check=True)
    subprocess.run([*pip, "--no-deps", "--editable", str(ROOT)], check=True)  # `import helpers` from any kernel
    STAMP.write_text(wanted)


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("runbook", "test", "lab"):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    command, rest = argv[0], argv[1:]
    ensure_environment()
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    if command == "runbook":
        args = [str(PYTHON), "-m", "helpers", "runbook", *rest]
    elif command == "lab":
        args = [str(PYTHON), "-m", "jupyterlab", "--notebook-dir", str(ROOT / "notebooks"), "--ip", "127.0.0.1",
                "--no-browser", *rest]
        if hasattr(os, "geteuid") and os.geteuid() == 0 and "--allow-root" not in rest:
            args.append("--allow-root")  # containers run as root; JupyterLab refuses without this
        print("dev.py: starting JupyterLab on 127.0.0.1; open the http://127.0.0.1:... URL it prints "
              "(with its token) in a browser. Ctrl-C stops it.", flush=True)
    else:
        args = [str(PYTHON), "-m", "pytest", *rest]
    return subprocess.run(args, cwd=ROOT, env=env).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
