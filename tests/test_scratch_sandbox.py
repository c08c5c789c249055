"""Notebook 07's days of customers play on a scratch sandbox: the operator's sandbox keeps its data and
a clock near the wall clock, and the days played end now."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from helpers.client import Client
from helpers.config import load_settings
from helpers.ledger import build_ledger
from helpers.runbook import Runbook, scratch_runbook
from helpers.verification import history_hours, play_sandbox_history, workflows_to_test
from sandbox import Sandbox


def test_the_demo_days_end_now_and_leave_the_operators_sandbox_alone():
    with Sandbox() as local:  # the operator's local sandbox runs on wall time
        settings = load_settings(env={}, env_file=None).with_base_url(local.base_url)
        operator = Runbook(settings, Client(settings))
        scratch = scratch_runbook(operator, hours=history_hours(), what="days of customers")
        workflows_to_test(scratch, "Opt-out keyword")
        play_sandbox_history(scratch)
        window = build_ledger(scratch.client).window
        now = datetime.now(UTC)
        assert abs(window.end - now) < timedelta(minutes=5)  # the scratch's days end now, not days ahead
        assert abs(operator.client.platform_time() - now) < timedelta(minutes=1)  # the operator's clock: unmoved
        assert list(operator.client.automation.list_definitions()) == []  # and its data untouched
        assert len(build_ledger(scratch.client).rows) == 14
