"""The embedded 8x8 sandbox: a real HTTP server on 127.0.0.1 that speaks 8x8's API.

    with Sandbox(deterministic=True) as sandbox:
        settings = settings.with_base_url(sandbox.base_url)

One folder per 8x8 API (``contacts``, ...) in moto's shape: ``urls.py`` (routes),
``responses.py`` (HTTP in and out), ``models.py`` (state and rules). They share one SQLite
store (``storage.py``) and one server (``server.py``); errors live in ``errors.py``.
"""
from __future__ import annotations

import threading
from typing import Iterable

from ..config import SANDBOX_API_KEY
from .contacts import urls as contacts_urls
from .contacts.models import ContactsBackend
from .control import mount_controls
from .server import App, Faults, SandboxHTTPServer
from .storage import Store

__all__ = ["Sandbox", "Faults"]


class Sandbox:
    def __init__(self, *, port: int = 0, state: str | None = None, deterministic: bool = False,
                 latency_ms: float = 0.0, api_keys: Iterable[str] = (SANDBOX_API_KEY,),
                 offset_mode: str = "pages"):
        self.store = Store(state or ":memory:", deterministic=deterministic)
        self.contacts = ContactsBackend(self.store, offset_mode=offset_mode)
        self.app = App(self.store, api_keys=api_keys, faults=Faults(latency_ms=latency_ms))
        self.app.mount(contacts_urls.url_patterns, self.contacts, "contacts")
        mount_controls(self)
        self._port = port
        self._server: SandboxHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def faults(self) -> Faults:
        return self.app.faults

    @property
    def clock(self):
        return self.store.clock

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("the sandbox is not running; call start() first")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> "Sandbox":
        if self._server is None:
            self._server = SandboxHTTPServer(self._port, self.app)
            self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), name="8x8-sandbox", daemon=True)
            self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in this thread until interrupted (the command line)."""
        self._server = self._server or SandboxHTTPServer(self._port, self.app)
        self._server.serve_forever()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            if self._thread is not None:
                self._thread.join(timeout=5)
            self._server = self._thread = None

    def close(self) -> None:
        self.stop()
        self.store.close()

    def __enter__(self) -> "Sandbox":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()

    def request_count(self, name: str = "requests") -> int:
        """How many API requests (or of one route, e.g. 'contacts.search_contacts') were served."""
        return self.app.stats[name]

    def reset_stats(self) -> None:
        self.app.stats.clear()

    def __repr__(self) -> str:
        where = self.base_url if self._server else "stopped"
        return f"Sandbox({where}, deterministic={self.store.deterministic})"
