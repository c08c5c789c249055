"""What every notebook starts with, and the job that runs them all.

``connect()`` reads the settings and, with no API key and no EIGHTXEIGHT_BASE_URL, starts
the embedded sandbox (deterministic: fixed ids and clock) in this process. Its first line
of output says plainly whether 8x8 or the sandbox is in use.

``run_runbook()`` executes the notebooks in order with papermill into a run folder. On the
sandbox, one sandbox serves the whole run, so what notebook 01 creates notebook 02 finds.
``refresh_committed_outputs()`` executes each notebook alone on a fresh sandbox, which then holds
what the notebooks before it leave (``LEFT_BY_EARLIER_NOTEBOOKS``, made by the seed control).
Demo set-up is the job's, never a notebook's: before notebooks 05 and 06 plan their sample files,
the job puts the sandbox's group at the samples' starting point (``demo.prepare_sample``).
"""

from __future__ import annotations

import atexit
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import requests

from sandbox import Sandbox

from . import local_sandbox
from .client import Client
from .concurrency import SubaccountLock
from .config import PROJECT_ROOT, SANDBOX_API_KEY, Settings, load_settings
from .demo import fresh_sandbox_seed, notebook_01_group, prepare_sample
from .errors import ConfigError, NotebookFailed, NotOnSandbox, SandboxControlError
from .paths import output_root, reports_folder, shown

if TYPE_CHECKING:
    from jupyter_client.manager import KernelManager

ROOT = PROJECT_ROOT
NOTEBOOKS = ROOT / "notebooks"

_embedded: Sandbox | None = None

# What the notebooks before it leave on a sandbox, for a notebook executed alone on a fresh one
# (the committed outputs, nbval): made through the fresh sandbox's seed control when it starts, so
# that no notebook sets up what an earlier notebook makes; notebooks 05 and 06 find their samples'
# starting points there (demo.fresh_sandbox_seed), as the job prepares them. EIGHTXEIGHT_SANDBOX_NOTEBOOK
# names the notebook being executed (refresh_committed_outputs, the root conftest.py and tests set it).
LEFT_BY_EARLIER_NOTEBOOKS = {"02_find_group_id": {"groups": [notebook_01_group()]}}


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

    def health(self) -> dict:
        """Whether the sandbox answers, whether it is deterministic, and its time."""
        return self._call("GET", "health")

    def reset(self) -> dict:
        """Everything back to nothing: state, ids, clock, faults, request counts."""
        return self._call("POST", "reset")

    def seed(
        self,
        *,
        groups: Sequence[dict] = (),
        contacts: Sequence[str] = (),
        definitions: Sequence[dict] = (),
        templates: Sequence[dict] = (),
    ) -> dict:
        """Make state in one call: groups (with "members"), contacts, definitions, WhatsApp templates;
        answers the ids."""
        return self._call(
            "POST",
            "seed",
            {
                "groups": list(groups),
                "contacts": list(contacts),
                "definitions": list(definitions),
                "templates": list(templates),
            },
        )

    def advance_clock(self, *, hours: float = 0, seconds: float = 0) -> dict:
        """Move the sandbox clock on; crossing a full hour runs the hourly blacklist sync."""
        return self._call("POST", "clock", {"advanceSeconds": hours * 3600 + seconds})

    def deliver_inbound(
        self,
        msisdn: str | None,
        text: str | None,
        *,
        subaccount: str | None = None,
        channel: str = "whatsapp",
        button: dict | None = None,
        channel_user_id: str | None = None,
    ) -> list[dict]:
        """A customer's message (or, with ``button``, a quick-reply tap) arrives; msisdn None: a
        customer known only by a channel user id (``channel_user_id``, their BSUID on WhatsApp;
        else a new one)."""
        body = {"msisdn": msisdn, "text": text, "channel": channel, "button": button}
        if channel_user_id is not None:
            body["channelUserId"] = channel_user_id
        if subaccount:
            body["subAccountId"] = subaccount
        return self._call("POST", "inbound", body)["workflows"]

    def inject_faults(self, *statuses: int, method: str | None = None, path_contains: str | None = None) -> dict:
        """Answer the next matching API requests (the workflows' own HTTP calls included) with these statuses."""
        return self._call(
            "POST", "faults", {"inject": list(statuses), "injectMethod": method, "injectPath": path_contains}
        )

    def fail_share(self, share_503: float, *, method: str | None = None, path_contains: str | None = None) -> dict:
        """Answer this share (0..1) of the matching API requests with 503 from now on (0 stops it)."""
        return self._call("POST", "faults", {"share503": share_503, "shareMethod": method, "sharePath": path_contains})

    def stats(self) -> dict:
        """Requests served so far: in all, per route, per error status."""
        return self._call("GET", "stats")

    def sent(self) -> list[dict]:
        """Every message the sandbox sent, oldest first, as its messages control answers them."""
        return self._call("GET", "messages")["messages"]

    def messages(self) -> pd.DataFrame:
        """Every message the sandbox sent, with its delivery state."""
        rows = [
            {
                "to": m["user"].get("msisdn") or m["user"].get("channelUserId"),
                "subaccount": m["subAccountId"],
                "channel": m["channel"],
                "text": m["content"].get("text"),
                "state": m["status"]["state"],
                "errorCode": m["status"].get("errorCode"),
                "errorMessage": m["status"].get("errorMessage"),
            }
            for m in self.sent()
        ]
        return pd.DataFrame(rows, columns=["to", "subaccount", "channel", "text", "state", "errorCode", "errorMessage"])


@dataclass
class Runbook:
    settings: Settings
    client: Client
    scratch_reports: Path | None = None  # a scratch sandbox's own reports folder (see reports_dir)

    @property
    def reports_dir(self) -> Path:
        """Where checkpoints, kept opt-outs and journals go: the project's reports/, or a scratch
        sandbox's own folder, so that a demo's files never pass for the operator's (they are named
        by subaccount, and a scratch sandbox has the operator's subaccount)."""
        return self.scratch_reports or reports_folder()

    @property
    def on_sandbox(self) -> bool:
        return self.settings.sandbox_mode

    @property
    def sandbox(self) -> SandboxControls:
        if not self.on_sandbox:
            raise NotOnSandbox("sandbox controls exist only on the sandbox (no EIGHTXEIGHT_API_KEY set)")
        return SandboxControls(str(self.settings.base_url))  # a sandbox has one base URL

    def scratch(self, *, hours: float, what: str, other_subaccounts: tuple[str, ...] = ()) -> Runbook:
        """A scratch sandbox for a demo that needs time to pass: see :func:`scratch_runbook`."""
        return scratch_runbook(self, hours=hours, what=what, other_subaccounts=other_subaccounts)


def scratch_runbook(runbook: Runbook, *, hours: float, what: str, other_subaccounts: tuple[str, ...] = ()) -> Runbook:
    """A sandbox of the demo's own, for a demo that needs time to pass (days of customers): the
    operator's sandbox keeps its data and a clock near the wall clock. On wall time the scratch
    clock starts ``hours`` in the past, so that the days played end about now; a deterministic
    sandbox (tests, nbval) gets a deterministic scratch. ``other_subaccounts``: more subaccounts of
    the same account, beside the operator's own. Only on the sandbox."""
    if not runbook.on_sandbox:
        raise NotOnSandbox("a scratch sandbox is for sandbox mode only (no EIGHTXEIGHT_API_KEY set)")
    deterministic = bool(runbook.sandbox.health().get("deterministic"))
    settings = runbook.settings
    subaccounts = {s: settings.account_id for s in (settings.subaccount_id, *other_subaccounts)}
    scratch = Sandbox(
        deterministic=deterministic, clock_offset_seconds=0 if deterministic else -hours * 3600, subaccounts=subaccounts
    )
    scratch.start()
    atexit.register(scratch.close)
    settings = settings.with_base_url(scratch.base_url)
    reports = Path(tempfile.mkdtemp(prefix="scratch-reports-"))
    atexit.register(shutil.rmtree, reports, True)
    print(
        f"This demo plays {what} on a scratch sandbox of its own, so that your sandbox's data and clock stay as "
        "they are."
    )
    return Runbook(settings, Client(settings), reports)


def sandbox_url() -> str:
    """Where sandbox mode talks when no EIGHTXEIGHT_BASE_URL is set: the local sandbox shared by
    notebooks and commands, or (EIGHTXEIGHT_SANDBOX=fresh: tests, nbval) a fresh deterministic
    one in this process."""
    global _embedded
    if not local_sandbox.wants_fresh():
        return local_sandbox.ensure_running()
    if _embedded is None:
        _embedded = Sandbox(deterministic=True).start()
        atexit.register(_embedded.close)
        notebook = os.environ.get("EIGHTXEIGHT_SANDBOX_NOTEBOOK", "")
        earlier = LEFT_BY_EARLIER_NOTEBOOKS.get(notebook) or fresh_sandbox_seed(notebook)
        if earlier:
            SandboxControls(_embedded.base_url).seed(**earlier)
    return _embedded.base_url


def connect(
    *, quiet: bool = False, parallel: int | None = None, subaccount: str | None = None, opt_out_list: str | None = None
) -> Runbook:
    """Settings, a client, and (in sandbox mode with nowhere to point) the sandbox to talk to.
    ``parallel`` overrides EIGHTXEIGHT_PARALLEL_REQUESTS (the commands' --parallel); ``subaccount``
    and ``opt_out_list`` override EIGHTXEIGHT_SUBACCOUNT_ID and EIGHTXEIGHT_OPT_OUT_LIST."""
    settings = load_settings().with_parallel(parallel).for_subaccount(subaccount, opt_out_list)
    if settings.needs_embedded_sandbox:
        settings = settings.with_base_url(sandbox_url())
    if not quiet:
        print(settings.describe())
    return Runbook(settings, Client(settings))


def in_project(path: str | Path | None, *, base: Path = NOTEBOOKS) -> Path | None:
    """A path as the notebooks write it: relative ones are read from notebooks/, whatever the cwd
    (None stays None: the library's default place)."""
    if path is None:
        return None
    path = Path(path)
    return path if path.is_absolute() else base / path


def notebook_paths() -> list[Path]:
    return sorted(p for p in NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))


def new_run_folder() -> Path:
    """runs/<date-time>/, created exclusively: two runbooks started in the same second get two folders."""
    base = output_root() / "runs"
    base.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    for n in range(1, 1000):
        folder = base / (stamp if n == 1 else f"{stamp}-{n}")
        try:
            folder.mkdir()
            return folder
        except FileExistsError:
            continue
    raise FileExistsError(f"{base} has 999 runs named {stamp}")


def _quiet_kernel_manager(log_path: Path, env: dict[str, str]):
    """A kernel manager whose kernels run with ``env`` (the job's environment: this process's stays as
    it is) and write their own stderr (ipykernel's transport warning, the KeyboardInterrupt of a
    shutdown) to a log file, so the runbook's output says only what ran."""
    from jupyter_client.manager import KernelManager

    class QuietKernelManager(KernelManager):
        def __init__(self, **kw):
            super().__init__(**kw)
            self.clients: list = []  # the clients made on this kernel, stopped with it (KernelsAhead)

        def client(self, **kw):
            made = super().client(**kw)
            self.clients.append(made)
            return made

        def start_kernel(self, **kw):  # KernelManager.start_kernel wraps the base coroutine: override it here
            with open(log_path, "a") as log:
                kw.setdefault("stderr", log)
                kw.setdefault("stdout", log)
                kw.setdefault("env", env)
                return super().start_kernel(**kw)

    return QuietKernelManager


PRELOADED = "import helpers.runbook, helpers.ui"  # what each notebook imports first (KernelsAhead)


class KernelsAhead:
    """A fresh kernel for each notebook of the job, each started while the notebook before it runs.

    A kernel takes about a second to start (Python importing ipykernel) and a fraction of one to a
    few seconds to shut down; the job spent both between notebooks, nine times. Each notebook still
    gets a kernel of its own, started with the job's environment and the project as its working
    directory, and shut down (gracefully, as nbclient does) once its notebook has ended. ``next()``
    hands over the kernel started for this notebook, starts the one for the next while there is a
    next, and shuts down the last notebook's in a background thread. Leaving the ``with`` shuts down
    whatever still runs and waits for every shutdown: a job stopped at a failing notebook, or
    interrupted, leaves no kernel behind.
    """

    def __init__(self, manager_class: Callable[..., KernelManager], count: int):
        self._manager_class = manager_class
        self._left = count  # kernels still to hand over: none is started ahead past the last
        self._ahead: KernelManager | None = None  # the kernel started for the next notebook
        self._current: KernelManager | None = None  # the kernel of the notebook running now
        self._stopper = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kernel-shutdown")
        self._warmer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kernel-warm-up")
        self._warming: dict[int, Future] = {}  # id of a kernel manager -> its warm-up (_warm_up)
        self._stopping: list[Future] = []  # the shutdowns asked for, each a future

    def __enter__(self) -> KernelsAhead:
        return self

    def __exit__(self, exc_type, *exc_info) -> None:
        self._stop(self._current)
        self._stop(self._ahead)
        self._current = self._ahead = None
        self._warmer.shutdown(wait=True)
        self._stopper.shutdown(wait=True)
        if exc_type is None:
            for stopping in self._stopping:
                stopping.result()  # a kernel that could not be shut down is said, not left unknown

    def _start(self) -> KernelManager:
        manager = self._manager_class(kernel_name="python3")
        # what nbclient passes when it starts a kernel itself: the working directory, no history file
        manager.start_kernel(cwd=str(ROOT), extra_arguments=["--HistoryManager.hist_file=:memory:"])
        self._warming[id(manager)] = self._warmer.submit(_warm_up, manager)
        return manager

    def _stop(self, manager: KernelManager | None) -> None:
        if manager is not None:
            warming = self._warming.pop(id(manager), None)
            if warming is not None:
                warming.cancel()  # not begun: nothing to wait for; begun: the shutdown waits for it
            self._stopping.append(self._stopper.submit(_shut_down, manager, warming))

    def next(self) -> KernelManager:
        """The started kernel manager for the notebook about to run."""
        self._stop(self._current)
        self._current, self._ahead = self._ahead or self._start(), None
        self._warming.pop(id(self._current)).result()  # its own client is gone before nbclient's comes
        self._left -= 1
        if self._left > 0:
            self._ahead = self._start()
        return self._current


def _warm_up(manager: Any) -> None:
    """The imports every notebook starts with (PRELOADED), run in a kernel started ahead while the
    notebook before it runs. Silent: no execution count, no output, nothing in the notebook; its
    first cell then finds the modules imported. The warm-up's client waits for the reply and is
    stopped before the kernel is handed over, so nbclient's is the only one then. A failing import
    is left for the notebook to report, when it imports the module itself."""
    client = manager.client()
    client.start_channels()
    try:
        client.wait_for_ready(timeout=60)
        client.execute(PRELOADED, silent=True, store_history=False)
        client.get_shell_msg(timeout=120)
    except Exception:
        pass
    finally:
        client.stop_channels()
        manager.clients.remove(client)


def _shut_down(manager: Any, warming: Future | None = None) -> None:
    """Stop the clients nbclient opened on a kernel, then the kernel (nbclient leaves both to the
    kernel manager's owner when it is handed one). A warm-up under way ends first: its client
    would otherwise wait for a reply from a kernel that is gone."""
    if warming is not None and not warming.cancelled():
        warming.result()
    for client in list(manager.clients):
        client.stop_channels()
    if manager.has_kernel:
        manager.shutdown_kernel(now=False)


class RunbookLock(SubaccountLock):
    """One runbook job at a time per subaccount. Two at once run each notebook against the other's
    half-done work: the sample set up before notebook 05 while the other run applies it, each
    one's test messages judged by the other's (measured: the second run failed at notebook 04, one
    test number taken out of the group by the first run between its STOP and its read-back). The
    second job is refused before its first notebook."""

    job, what = "runbook", "python -m helpers runbook"
    running, then = (
        "Another runbook job",
        ("; this one ran no notebook. Run it again when that one has finished (or open its run folder to follow it)."),
    )


def run_runbook(output_dir: Path | None = None, *, parameters: dict | None = None) -> Path:
    """Execute every notebook in order into ``output_dir`` (default runs/<time>/); stop at the first
    that fails (later notebooks build on earlier ones) with NotebookFailed naming it."""
    settings = load_settings()  # ConfigError: one clear message, before anything runs
    env = {"EIGHTXEIGHT_BASE_URL": sandbox_url()} if settings.needs_embedded_sandbox else {}
    on = settings.with_base_url(env["EIGHTXEIGHT_BASE_URL"]) if env else settings
    print(on.describe(), flush=True)
    with RunbookLock(Client(on)):  # RunInProgress: refused before any notebook or run folder
        return _run_notebooks(settings, env, output_dir or new_run_folder(), parameters or {})


def _run_notebooks(settings: Settings, env: dict, output_dir: Path, parameters: dict) -> Path:
    from .openapi import import_jsonschema

    import_jsonschema()  # before papermill's nbformat imports it: see openapi.import_jsonschema
    import papermill

    output_dir.mkdir(parents=True, exist_ok=True)
    env = {**env, "EIGHTXEIGHT_RUN_DIR": str(output_dir)}
    kernel_env = {**os.environ, **env}  # handed to each kernel; this process's environment is left as it is
    failed = None
    started_run = time.monotonic()
    notebooks = notebook_paths()
    with KernelsAhead(_quiet_kernel_manager(output_dir / "kernels.log", kernel_env), len(notebooks)) as kernels:
        for notebook in notebooks:
            target = output_dir / notebook.name
            started = time.monotonic()
            _prepare(notebook, settings, env, parameters)
            try:
                papermill.execute_notebook(
                    str(notebook),
                    str(target),
                    parameters=parameters,
                    cwd=str(ROOT),
                    progress_bar=False,
                    kernel_name="python3",
                    km=kernels.next(),
                )
            except papermill.PapermillExecutionError as exc:
                failed = notebook.name
                message = str(exc.evalue).strip().splitlines()[0] if str(exc.evalue).strip() else ""
                took = time.monotonic() - started
                print(f"  FAILED  {notebook.name} ({took:.1f} s): {exc.ename}: {message}", flush=True)
                break
            print(f"  ok      {notebook.name} ({time.monotonic() - started:.1f} s)", flush=True)
    written = sorted(p.name for p in output_dir.iterdir() if p.suffix != ".ipynb" and p.name != "kernels.log")
    print(
        f"Executed notebooks are in {shown(output_dir)} ({time.monotonic() - started_run:.0f} s)"
        + (f"; also there: {', '.join(written)}" if written else "")
        + ".",
        flush=True,
    )
    if failed:
        raise NotebookFailed(
            f"Stopped at {failed}: later notebooks build on it. Open {shown(output_dir / failed)} "
            "to see the failing cell."
        )
    return output_dir


def _prepare(notebook: Path, settings: Settings, env: dict, parameters: dict) -> None:
    """The job's demo set-up before a notebook (on the sandbox only): see demo.prepare_sample."""
    if settings.sandbox_mode:
        on = settings.with_base_url(str(env.get("EIGHTXEIGHT_BASE_URL", settings.base_url)))
        said = prepare_sample(Runbook(on, Client(on)), notebook.stem, parameters)
        if said:
            print(f"  before  {notebook.name}: {said}", flush=True)


def refresh_committed_outputs(only: list[str] | None = None) -> None:
    """Re-execute each notebook alone (``only``: those whose names start with one of these, e.g. "07"),
    on its own fresh embedded sandbox, and save it in place.

    This is how the committed notebooks get their outputs: from a sandbox run only.
    """
    from .openapi import import_jsonschema

    import_jsonschema()  # before nbformat imports it: see openapi.import_jsonschema
    import nbformat
    from nbclient import NotebookClient

    if load_settings().api_key:
        raise ConfigError("Refusing: EIGHTXEIGHT_API_KEY is set. Committed outputs come from a sandbox run only.")
    import tempfile

    # Each kernel's environment, not this process's: each notebook on its own fresh, deterministic
    # sandbox, writing into a scratch folder (not the operator's runs/, reports/).
    base = {k: v for k, v in os.environ.items() if k not in ("EIGHTXEIGHT_BASE_URL", "EIGHTXEIGHT_RUN_DIR")}
    base |= {"EIGHTXEIGHT_SANDBOX": "fresh", "EIGHTXEIGHT_OUTPUT_DIR": tempfile.mkdtemp(prefix="refresh-")}
    for path in notebook_paths():
        if only and not path.name.startswith(tuple(only)):
            continue
        kernel_env = base | {"EIGHTXEIGHT_SANDBOX_NOTEBOOK": path.stem}  # what its fresh sandbox finds
        notebook = nbformat.read(path, as_version=4)
        NotebookClient(
            notebook,
            timeout=600,
            kernel_name="python3",
            record_timing=False,
            resources={"metadata": {"path": str(ROOT)}},
        ).execute(env=kernel_env)
        nbformat.write(notebook, path)
        print(f"refreshed {path.relative_to(ROOT)}", file=sys.stderr)
