"""What every notebook starts with, and the job that runs them all.

``connect()`` reads the settings and, with no API key and no EIGHTXEIGHT_BASE_URL, starts
the embedded sandbox (deterministic: fixed ids and clock) in this process. Its first line
of output says plainly whether 8x8 or the sandbox is in use.

``run_runbook()`` executes the notebooks in order with papermill into a run folder. On the
sandbox, one sandbox serves the whole run, so what notebook 01 creates notebook 02 finds.
"""
from __future__ import annotations

import atexit
import os
import sys
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pandas as pd
import requests

from .client import Client
from .config import PROJECT_ROOT, SANDBOX_API_KEY, Settings, load_settings
from .errors import NotOnSandbox, SandboxControlError
from .sandbox import Sandbox

ROOT = PROJECT_ROOT
NOTEBOOKS = ROOT / "notebooks"

_embedded: Sandbox | None = None


class SandboxControls:
    """The sandbox-only controls (/_sandbox/...), over HTTP: work for an embedded or a separate sandbox."""

    def __init__(self, base_url: str, api_key: str = SANDBOX_API_KEY):
        self.base_url = base_url
        self._http = requests.Session()
        self._http.headers["Authorization"] = f"Bearer {api_key}"  # the controls take the API's key

    def __repr__(self) -> str:
        return f"SandboxControls({self.base_url})"

    def _call(self, method: str, path: str, body: dict | None = None) -> dict:
        try:
            answer = self._http.request(method, f"{self.base_url}/_sandbox/{path}", json=body, timeout=30)
        except requests.RequestException as exc:
            raise SandboxControlError(f"the sandbox at {self.base_url} did not answer ({type(exc).__name__})") from None
        if answer.status_code != 200:
            raise SandboxControlError(f"/_sandbox/{path} answered {answer.status_code}: {answer.text[:300]}")
        return answer.json()

    def advance_clock(self, *, hours: float = 0, seconds: float = 0) -> dict:
        """Move the sandbox clock on; crossing a full hour runs the hourly blacklist sync."""
        return self._call("POST", "clock", {"advanceSeconds": hours * 3600 + seconds})

    def deliver_inbound(self, msisdn: str | None, text: str | None, *, subaccount: str | None = None,
                        channel: str = "whatsapp", button: dict | None = None) -> list[dict]:
        """A customer's message (or, with ``button``, a quick-reply tap) arrives; msisdn None: a
        customer known only by a channel user id."""
        body = {"msisdn": msisdn, "text": text, "channel": channel, "button": button}
        if subaccount:
            body["subAccountId"] = subaccount
        return self._call("POST", "inbound", body)["workflows"]

    def inject_faults(self, *statuses: int, method: str | None = None, path_contains: str | None = None) -> dict:
        """Answer the next matching API requests (the workflows' own HTTP calls included) with these statuses."""
        return self._call("POST", "faults", {"inject": list(statuses), "injectMethod": method,
                                             "injectPath": path_contains})

    def stats(self) -> dict:
        """Requests served so far: in all, per route, per error status."""
        return self._call("GET", "stats")

    def messages(self) -> pd.DataFrame:
        """Every message the sandbox sent, with its delivery state."""
        rows = [{"to": m["user"]["msisdn"], "subaccount": m["subAccountId"], "channel": m["channel"],
                 "text": m["content"].get("text"), "state": m["status"]["state"],
                 "errorCode": m["status"].get("errorCode"), "errorMessage": m["status"].get("errorMessage")}
                for m in self._call("GET", "messages")["messages"]]
        return pd.DataFrame(rows, columns=["to", "subaccount", "channel", "text", "state", "errorCode", "errorMessage"])


@dataclass
class Runbook:
    settings: Settings
    client: Client

    @property
    def on_sandbox(self) -> bool:
        return self.settings.sandbox_mode

    @property
    def sandbox(self) -> SandboxControls:
        if not self.on_sandbox:
            raise NotOnSandbox("sandbox controls exist only on the sandbox (no EIGHTXEIGHT_API_KEY set)")
        return SandboxControls(self.settings.base_url)


def connect(*, quiet: bool = False) -> Runbook:
    """Settings, a client, and (in sandbox mode with nowhere to point) an embedded sandbox."""
    global _embedded
    settings = load_settings()
    if settings.needs_embedded_sandbox:
        if _embedded is None:
            _embedded = Sandbox(deterministic=True).start()
            atexit.register(_embedded.close)
        settings = settings.with_base_url(_embedded.base_url)
    if not quiet:
        print(settings.describe())
    return Runbook(settings, Client(settings))


def in_project(path: str | Path, *, base: Path = NOTEBOOKS) -> Path:
    """A path as the notebooks write it: relative ones are read from notebooks/, whatever the cwd."""
    path = Path(path)
    return path if path.is_absolute() else base / path


def shown(path: str | Path) -> str:
    """A path for output: relative to the project when inside it, so outputs do not vary by clone."""
    path = Path(path).resolve()
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def notebook_paths() -> list[Path]:
    return sorted(p for p in NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))


def run_runbook(output_dir: Path | None = None, *, parameters: dict | None = None) -> Path:
    """Execute every notebook in order into ``output_dir`` (default runs/<time>/) and return it."""
    import papermill

    output_dir = output_dir or ROOT / "runs" / datetime.now().strftime("%Y%m%d-%H%M%S")
    output_dir.mkdir(parents=True, exist_ok=True)
    settings = load_settings()
    sandbox = None
    env = dict(os.environ)
    if settings.needs_embedded_sandbox:
        sandbox = Sandbox(deterministic=True, state=str(output_dir / "sandbox.sqlite")).start()
        env["EIGHTXEIGHT_BASE_URL"] = sandbox.base_url
    print(settings.with_base_url(sandbox.base_url).describe() if sandbox else settings.describe(), flush=True)
    previous = dict(os.environ)
    os.environ.update(env)  # papermill's kernels inherit this environment
    failures = []
    try:
        for notebook in notebook_paths():
            target = output_dir / notebook.name
            started = time.monotonic()
            try:
                papermill.execute_notebook(str(notebook), str(target), parameters=parameters or {},
                                           cwd=str(ROOT), progress_bar=False, kernel_name="python3")
                print(f"  ok      {notebook.name} ({time.monotonic() - started:.1f} s)", flush=True)
            except papermill.PapermillExecutionError as exc:
                failures.append(notebook.name)
                print(f"  FAILED  {notebook.name}: {exc.ename}: {exc.evalue}", flush=True)
    finally:
        os.environ.clear()
        os.environ.update(previous)
        if sandbox is not None:
            sandbox.close()
    print(f"Executed notebooks are in {output_dir}", flush=True)
    if failures:
        raise SystemExit(f"{len(failures)} notebook(s) failed: {', '.join(failures)} (see {output_dir})")
    return output_dir


def refresh_committed_outputs() -> None:
    """Re-execute each notebook alone, on its own fresh embedded sandbox, and save it in place.

    This is how the committed notebooks get their outputs: from a sandbox run only.
    """
    import nbformat
    from nbclient import NotebookClient

    if load_settings().api_key:
        raise SystemExit("Refusing: EIGHTXEIGHT_API_KEY is set. Committed outputs come from a sandbox run only.")
    for path in notebook_paths():
        notebook = nbformat.read(path, as_version=4)
        NotebookClient(notebook, timeout=600, kernel_name="python3", record_timing=False,
                       resources={"metadata": {"path": str(ROOT)}}).execute()
        nbformat.write(notebook, path)
        print(f"refreshed {path.relative_to(ROOT)}", file=sys.stderr)
