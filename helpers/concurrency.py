"""Tools for running work at once, shared by the library: exclusive locks between processes (one
job of a kind per subaccount, one change of a group at a time), work cut into steps for idle
moments, and the cyclic garbage collector paused around large reads."""

from __future__ import annotations

import fcntl
import gc
import hashlib
import os
import threading
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from .errors import RunInProgress
from .paths import lock_folder

if TYPE_CHECKING:
    from .client import Client


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
        return RunInProgress(
            f"another run holds {self.path.name} ({holder}): wait for it to finish, then run this "
            "again. Nothing was changed by this run."
        )

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


def subaccount_key(client: Client) -> str:
    """What a lock of one subaccount's workflows is named by: the platform, the account, the subaccount."""
    return f"{client.base_urls['automation']}|{client.settings.account_id}|{client.settings.subaccount_id}"


class SubaccountLock(ExclusiveLock):
    """One run of a job at a time per subaccount of an account (the subclass names the job, and what
    a refused run is told)."""

    job = what = running = then = ""

    def __init__(self, client: Client):
        self.subaccount = client.settings.subaccount_id
        super().__init__(subaccount_key(client), self.job, self.what)

    def refusal(self, holder: str) -> RunInProgress:
        return RunInProgress(f"{self.running} is running for subaccount {self.subaccount} ({holder}){self.then}")


class Steps:
    """Work cut into small steps (a generator whose return value is the result), advanced by whoever
    has idle time: read_group runs one step per page while the next pages are on their way."""

    def __init__(self, steps: Generator[Any, None, Any]):
        self._steps = steps
        self.done = False
        self.result = None

    def step(self) -> bool:
        """One step; answers whether steps are left."""
        if not self.done:
            try:
                next(self._steps)
            except StopIteration as end:
                self.done, self.result = True, end.value
        return not self.done

    def finish(self) -> Any:
        while not self.done:
            self.step()
        return self.result


_PAUSES = 0  # pauses of the collector in progress, in any thread
_WAS_ENABLED = True  # the collector's state before the first of them
_PAUSES_LOCK = threading.Lock()


@contextmanager
def no_cycle_collection() -> Iterator[None]:
    """The cyclic garbage collector paused while a large group or file is read: the read makes
    hundreds of thousands of small objects without cycles (reference counting frees them), and each
    collection it triggers walks every object the process holds. The collector is one per process:
    it is paused while any such read runs, in any thread, and put back as it was when the last one
    ends. Measured: benchmarks/process_effects.py."""
    global _PAUSES, _WAS_ENABLED
    with _PAUSES_LOCK:
        if _PAUSES == 0:
            _WAS_ENABLED = gc.isenabled()
            gc.disable()
        _PAUSES += 1
    try:
        yield
    finally:
        with _PAUSES_LOCK:
            _PAUSES -= 1
            if _PAUSES == 0 and _WAS_ENABLED:
                gc.enable()
