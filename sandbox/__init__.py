"""The embedded 8x8 sandbox: a real HTTP server on 127.0.0.1 that speaks 8x8's API.

    with Sandbox(deterministic=True) as sandbox:
        settings = settings.with_base_url(sandbox.base_url)

One folder per 8x8 API (``contacts``, ...) in moto's shape: ``urls.py`` (routes),
``responses.py`` (HTTP in and out), ``models.py`` (state and rules). They share one SQLite
store (``storage.py``) and one server (``server.py``); errors live in ``errors.py``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from datetime import timedelta
from pathlib import Path

import requests

from .automation import urls as automation_urls
from .automation.engine import StepFailed, WorkflowEngine
from .automation.models import AutomationBackend
from .contacts import urls as contacts_urls
from .contacts.models import ContactsBackend
from .control import mount_controls
from .defaults import DEFAULT_SUBACCOUNTS, SANDBOX_API_KEY, SANDBOX_SUBACCOUNT_ID
from .errors import SandboxError
from .messaging import urls as messaging_urls
from .messaging import webhooks
from .messaging.models import MessagingBackend
from .messaging.responses import parse_message
from .seeding import seed_state
from .server import App, Faults, SandboxHTTPServer
from .storage import Store

__all__ = ["Sandbox", "Faults"]
log = logging.getLogger(__name__)


class Sandbox:
    def __init__(
        self,
        *,
        port: int = 0,
        state: str | None = None,
        deterministic: bool = False,
        latency_ms: float = 0.0,
        api_keys: Iterable[str] = (SANDBOX_API_KEY,),
        offset_mode: str = "pages",
        subaccounts: dict[str, str] | None = None,
        clock_offset_seconds: float = 0.0,
    ):
        """``clock_offset_seconds``: where the clock starts from now (negative: in the past)."""
        self._options = {
            "state": state,
            "deterministic": deterministic,
            "latency_ms": latency_ms,
            "clock_offset": clock_offset_seconds,
            "offset_mode": offset_mode,
            "subaccounts": subaccounts or DEFAULT_SUBACCOUNTS,
        }
        self._api_keys = tuple(api_keys)
        self._http = requests.Session()  # the engine's own calls (HttpRequest, ChatAppsMessage steps)
        self._build(Store(state or ":memory:", deterministic=deterministic, clock_offset=clock_offset_seconds))
        self._port = port
        self._server: SandboxHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._waker: threading.Thread | None = None
        self._stopping = threading.Event()

    def _build(self, store: Store) -> None:
        """The state and the services on it; the server reads ``self.app`` at each request."""
        options = self._options
        self.store = store
        self.contacts = ContactsBackend(store, offset_mode=options["offset_mode"])
        self.messaging = MessagingBackend(store, self.contacts, options["subaccounts"])
        engine = WorkflowEngine(
            clock=store.clock,
            new_id=lambda: store.new_uuid("step"),
            send_message=self._send_from_workflow,
            http=self._http,
        )
        self.automation = AutomationBackend(store, engine, self.messaging.account_for)
        app = App(store, api_keys=self._api_keys, faults=Faults(latency_ms=options["latency_ms"]))
        app.mount(contacts_urls.url_patterns, self.contacts, "contacts")
        app.mount(automation_urls.url_patterns, self.automation, "automation")
        app.mount(messaging_urls.url_patterns, self.messaging, "messaging")
        self.app = app
        mount_controls(self)
        if getattr(self, "_server", None) is not None:
            self._server.app = app

    def reset(self) -> None:
        """Everything back to nothing, as moto's reset: state, ids, clock, faults and request counts.
        A state file keeps its path and is emptied."""
        state = self._options["state"]
        with self.store.lock:
            self.store.close()
            if state and state != ":memory:":
                for suffix in ("", "-wal", "-shm"):
                    Path(state + suffix).unlink(missing_ok=True)
            self._build(
                Store(
                    state or ":memory:",
                    deterministic=self._options["deterministic"],
                    clock_offset=self._options["clock_offset"],
                )
            )

    def seed(self, body: dict) -> dict:
        """State in one call (POST /_sandbox/seed): groups with their members, contacts, definitions.
        Everything is checked as the API would check it; answers what was made, with the ids."""
        return seed_state(self, body)

    def advance_clock(self, seconds: float):
        """Move the sandbox clock on as if the time had passed: it stops at each sleeping run's wake
        time on the way, so that the run goes on then (and waits again from then), and the hourly
        blacklist sync runs at each hour it passes. Answers the new time."""
        clock = self.store.clock
        target = clock.now() + timedelta(seconds=clock.check_step(seconds))
        while (wake := self.automation.next_wake()) is not None and wake <= target:
            if wake > clock.now():
                clock.advance((wake - clock.now()).total_seconds())
            self.messaging.sync_blacklist_if_due()
            self.automation.resume_due()
        if target > clock.now():
            clock.advance((target - clock.now()).total_seconds())
        self.automation.resume_due()
        self.messaging.sync_blacklist_if_due()
        return clock.now()

    def _wake_sleeping_runs(self) -> None:
        """On wall time the clock moves by itself: every second, run the hourly blacklist sync when an
        hour has begun, and wake the runs whose Wait is over, as the platform would."""
        while not self._stopping.wait(1.0):
            try:
                self.messaging.sync_blacklist_if_due()  # the hourly sync on the hour, not at the next send
                self.automation.resume_due()
            except Exception:  # a sandbox bug must not stop the server; the next tick tries again
                log.exception("waking sleeping runs failed")

    def _send_from_workflow(self, subaccount: str, inputs: dict, channel: str) -> dict:
        """ChatAppsMessage steps go through the Messaging Apps endpoint over HTTP, as on the platform."""
        body = {k: inputs[k] for k in ("user", "type", "content", "clientMessageId") if k in inputs}
        if channel == "SMS":  # the sandbox serves no SMS API: record it directly
            try:
                return self.messaging.send(subaccount, parse_message(body), channel="SMS")
            except SandboxError as exc:
                raise StepFailed(f"SMS step failed: {exc}") from None
        answer = self._http.post(
            f"{self.base_url}/api/v1/subaccounts/{subaccount}/messages",
            json=body,
            headers={"Authorization": f"Bearer {self._api_keys[0]}"},
            timeout=10,
        )
        if answer.status_code != 200:
            raise StepFailed(f"ChatAppsMessage answered {answer.status_code}: {answer.text[:200]}")
        return answer.json()

    def deliver_inbound(
        self,
        msisdn: str | None,
        text: str | None,
        *,
        subaccount: str = SANDBOX_SUBACCOUNT_ID,
        channel: str = "whatsapp",
        name: str = "Test customer",
        button: dict | None = None,
        channel_user_id: str | None = None,
    ) -> list[dict]:
        """A customer's message arrives, as the platform would deliver it: matching workflows start.

        ``button`` ({"id", "title"}) makes it a WhatsApp quick-reply tap instead of typed text;
        ``msisdn=None`` a customer known only by a channel user id (v3 leaves msisdn out);
        ``channel_user_id``: that id (a BSUID on WhatsApp: one customer's, message after message),
        else a new one for this message.
        """
        webhook = inbound_webhook(
            self.store, subaccount, msisdn, text, channel, name, button=button, channel_user_id=channel_user_id
        )
        return self.automation.deliver_inbound(subaccount, webhook, _trigger_for(channel))

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

    def start(self) -> Sandbox:
        if self._server is None:
            self._server = SandboxHTTPServer(self._port, self.app)
            self._thread = threading.Thread(
                target=self._server.serve_forever, args=(0.05,), name="8x8-sandbox", daemon=True
            )
            self._thread.start()
            self._start_waker()
        return self

    def _start_waker(self) -> None:
        if not self.store.deterministic and self._waker is None:  # a frozen clock moves only by advance_clock
            self._stopping.clear()
            self._waker = threading.Thread(target=self._wake_sleeping_runs, name="8x8-sandbox-waits", daemon=True)
            self._waker.start()

    def serve_forever(self) -> None:
        """Serve in this thread until interrupted (the command line)."""
        self._server = self._server or SandboxHTTPServer(self._port, self.app)
        self._start_waker()
        self._server.serve_forever()

    def stop(self) -> None:
        self._stopping.set()
        if self._waker is not None:
            self._waker.join(timeout=5)
            self._waker = None
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            if self._thread is not None:
                self._thread.join(timeout=5)
            self._server = self._thread = None

    def close(self) -> None:
        self.stop()
        self._http.close()
        self.store.close()

    def __enter__(self) -> Sandbox:
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


def _trigger_for(channel: str) -> str:
    return "inbound_sms" if channel.lower() == "sms" else "inbound_chat_apps"


def inbound_webhook(
    store,
    subaccount: str,
    msisdn: str | None,
    text: str | None,
    channel: str = "whatsapp",
    name: str = "Test customer",
    *,
    button: dict | None = None,
    channel_user_id: str | None = None,
) -> dict:
    """The body 8x8 posts for an inbound message (v3 Messaging Apps, or SMS): messaging/webhooks.py."""
    common = {"umid": store.new_uuid("umid"), "subaccount": subaccount, "timestamp": store.clock.iso()}
    if channel.lower() == "sms":
        return webhooks.sms_message(**common, source=msisdn, body=text)
    return webhooks.chat_apps_message(
        **common,
        msisdn=msisdn,
        channel_user_id=channel_user_id or store.new_uuid("channel-user"),
        name=name,
        channel=channel.lower(),
        channel_id=store.new_uuid("channel"),
        text=text,
        button=button,
    )
