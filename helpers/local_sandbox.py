"""The operator's one local 8x8: a sandbox server that the notebooks, the commands and the runbook
job all share, as they would share the real platform.

With no API key and no EIGHTXEIGHT_BASE_URL, :func:`ensure_running` finds the local sandbox
(``.sandbox/server.json``, answered by its health check) or starts it in the background:
``python -m helpers sandbox`` serving ``.sandbox/state.sqlite`` (git-ignored) on 127.0.0.1, on
the port it had before when that port is free (the deployed workflows call the sandbox at the
URL they were deployed with). What notebook 01 creates, ``bulk-remove`` then finds. It runs on
the wall clock with random ids, like the platform, and stops by itself after
``IDLE_EXIT_SECONDS`` without an API request. ``python -m helpers sandbox --reset`` stops it and
deletes its state; ``--stop`` only stops it.

Tests and nbval set EIGHTXEIGHT_SANDBOX=fresh: each run gets its own in-process, deterministic
sandbox, and the operator's state is never touched.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import select
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import requests

from .config import PROJECT_ROOT
from .errors import SandboxControlError

# EIGHTXEIGHT_SANDBOX_DIR: another folder (a test's own local sandbox, never the operator's).
FOLDER = Path(os.environ.get("EIGHTXEIGHT_SANDBOX_DIR") or PROJECT_ROOT / ".sandbox")
STATE = FOLDER / "state.sqlite"
SERVER = FOLDER / "server.json"
IDLE_EXIT_SECONDS = 4 * 3600
START_TIMEOUT_SECONDS = 30
# A port of this sandbox's own (stable across restarts, different for another clone or folder).
PREFERRED_PORT = 18000 + int(hashlib.sha256(str(FOLDER).encode()).hexdigest(), 16) % 1000


def wants_fresh() -> bool:
    """Tests and nbval: a fresh in-process sandbox per run, never the operator's state."""
    return os.environ.get("EIGHTXEIGHT_SANDBOX", "").strip().lower() == "fresh"


def _read_server() -> dict:
    try:
        return json.loads(SERVER.read_text())
    except (OSError, ValueError):
        return {}


def running() -> dict | None:
    """The local sandbox's {url, pid, port} when it answers its health check, else None."""
    info = _read_server()
    url = info.get("url")
    if not url:
        return None
    try:
        answer = requests.get(f"{url}/_sandbox/health", timeout=2)
    except requests.RequestException:
        return None
    return info if answer.status_code == 200 else None


@contextmanager
def _start_lock():
    FOLDER.mkdir(mode=0o700, exist_ok=True)
    with open(FOLDER / "start.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)  # two notebooks starting at once start one sandbox
        yield


def _port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def ensure_running() -> str:
    """The local sandbox's base URL, starting it in the background if it is not running."""
    with _start_lock():
        info = running()
        if info:
            return info["url"]
        wanted = int(_read_server().get("port") or PREFERRED_PORT)
        port = wanted if _port_is_free(wanted) else 0
        log = open(FOLDER / "server.log", "a")
        process = subprocess.Popen(
            [sys.executable, "-m", "helpers", "sandbox", "--serve-local", "--port", str(port)],
            cwd=PROJECT_ROOT,
            stdout=subprocess.PIPE,
            stderr=log,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            text=True,
            env={k: v for k, v in os.environ.items() if k != "EIGHTXEIGHT_SANDBOX"},
        )
        log.close()
        assert process.stdout is not None  # stdout=PIPE
        ready, _, _ = select.select([process.stdout], [], [], START_TIMEOUT_SECONDS)
        url = process.stdout.readline().strip() if ready else ""  # the server prints its URL once it listens
        process.stdout.close()
        if not url.startswith("http"):
            process.kill()
            raise SandboxControlError(
                f"the local sandbox did not start within {START_TIMEOUT_SECONDS} s (see {FOLDER / 'server.log'})"
            )
        return url


def serve_local(port: int) -> int:
    """Serve the local sandbox in this process until SIGTERM, Ctrl-C or IDLE_EXIT_SECONDS idle."""
    from sandbox import Sandbox

    FOLDER.mkdir(mode=0o700, exist_ok=True)
    stopped: list[bool] = []
    # before the address is announced: a SIGTERM sent as soon as it is read still stops cleanly
    signal.signal(signal.SIGTERM, lambda *_: stopped.append(True))
    sandbox = Sandbox(port=port, state=str(STATE)).start()
    port = int(sandbox.base_url.rsplit(":", 1)[1])
    SERVER.write_text(json.dumps({"url": sandbox.base_url, "port": port, "pid": os.getpid()}))
    print(sandbox.base_url, flush=True)
    last_count, last_change = -1, time.monotonic()
    try:
        while not stopped:
            time.sleep(0.5)
            count = sandbox.request_count()
            if count != last_count:
                last_count, last_change = count, time.monotonic()
            elif time.monotonic() - last_change > IDLE_EXIT_SECONDS:
                break
    except KeyboardInterrupt:
        pass
    finally:
        if _read_server().get("pid") == os.getpid():
            SERVER.write_text(json.dumps({"port": port}))  # keep the port for the next start
        sandbox.close()
    return 0


def stop() -> bool:
    """Stop the local sandbox if it runs; True if it did."""
    info = running()
    if not info:
        return False
    try:
        os.kill(int(info["pid"]), signal.SIGTERM)
    except (ProcessLookupError, ValueError, KeyError):
        return False
    deadline = time.monotonic() + 10
    while running() and time.monotonic() < deadline:
        time.sleep(0.1)
    return True


def reset() -> None:
    """Stop the local sandbox and delete its state: the next use starts from nothing."""
    stop()
    for path in FOLDER.glob("state.sqlite*"):
        path.unlink()
