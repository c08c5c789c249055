#!/usr/bin/env python3
"""Set up and run the runbook with nothing but Python installed.

    python3 dev.py runbook   # the main job: every notebook on the sandbox, into runs/<time>/
    python3 dev.py test      # every test: unit, integration, and pytest --nbval on the notebooks
    python3 dev.py lab       # JupyterLab on working copies of the notebooks, to follow the runbook by hand
    python3 dev.py docs      # the docs site on http://127.0.0.1:8000 (MkDocs; `docs build` writes site/)

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
    wanted = hashlib.sha256(
        (ROOT / "requirements.txt").read_bytes() + (ROOT / "pyproject.toml").read_bytes()
    ).hexdigest()
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


LAB_COPIES = ROOT / "runs" / "lab" / "notebooks"


def lab_working_copies(target: Path = LAB_COPIES) -> Path:
    """Working copies of notebooks/*.ipynb for JupyterLab, so that its autosave never rewrites the
    committed notebooks (git status stays clean). A copy is brought up to date from the committed
    notebook when that changed and the copy was not edited since; an edited copy is kept, and said.
    The notebooks find their data and .env through the project, wherever the copy sits."""
    import json
    import shutil

    target.mkdir(parents=True, exist_ok=True)
    manifest_path = target / ".copied.json"  # notebook -> sha256 of the content last copied in
    manifest = json.loads(manifest_path.read_text()) if manifest_path.is_file() else {}
    kept = []
    for source in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        copy = target / source.name
        wanted = hashlib.sha256(source.read_bytes()).hexdigest()
        current = hashlib.sha256(copy.read_bytes()).hexdigest() if copy.is_file() else None
        if current is None or (current == manifest.get(source.name) and current != wanted):
            shutil.copyfile(source, copy)
            manifest[source.name] = wanted
        elif current != manifest.get(source.name):
            kept.append(source.name)
    manifest_path.write_text(json.dumps(manifest, indent=1))
    if kept:
        print(
            f"dev.py: kept your edited copies of {', '.join(kept)} in {target} (delete one to start it afresh "
            "from the committed notebook)",
            flush=True,
        )
    return target


def quiet_lab_settings(venv: Path = VENV) -> Path:
    """JupyterLab's defaults for this project's environment (overrides.json of its app settings): no
    news pop-up over the first screen and no update check. A person may still turn them on."""
    import json

    path = venv / "share" / "jupyter" / "lab" / "settings" / "overrides.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    current = json.loads(path.read_text()) if path.is_file() else {}
    current["@jupyterlab/apputils-extension:notification"] = {"fetchNews": "false", "checkForUpdates": False}
    path.write_text(json.dumps(current, indent=1))
    return path


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("runbook", "test", "lab", "docs"):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    command, rest = argv[0], argv[1:]
    ensure_environment()
    env = {**os.environ, "DISABLE_MKDOCS_2_WARNING": "true"}
    # Bytecode is written (into __pycache__/, which git ignores), even where the shell says not to: a
    # test run starts hundreds of Python processes, and each compiled the library from source again.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    if command == "runbook":
        args = [str(PYTHON), "-m", "helpers", "runbook", *rest]
    elif command == "lab":
        quiet_lab_settings()
        args = [
            str(PYTHON),
            "-m",
            "jupyterlab",
            "--notebook-dir",
            str(lab_working_copies()),
            "--ip",
            "127.0.0.1",
            "--no-browser",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
            *rest,
        ]
        if hasattr(os, "geteuid") and os.geteuid() == 0 and "--allow-root" not in rest:
            args.append("--allow-root")  # containers run as root; JupyterLab refuses without this
        print(
            "dev.py: starting JupyterLab on 127.0.0.1 on working copies of the notebooks (runs/lab/notebooks/: "
            "the committed ones stay as they are); open the http://127.0.0.1:... URL it prints (with its token) "
            "in a browser. Ctrl-C stops it.",
            flush=True,
        )
    elif command == "docs":
        args = [str(PYTHON), "-m", "mkdocs", *(rest or ["serve", "--dev-addr", "127.0.0.1:8000"])]
    else:
        args = [str(PYTHON), "-m", "pytest", *rest]
    return subprocess.run(args, cwd=ROOT, env=env).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
