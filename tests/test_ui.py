"""The notebooks' widgets, clicked from Python (the browser test clicks them for real)."""

from __future__ import annotations

from helpers.ui import confirm_button


def test_more_than_a_handful_of_changes_asks_twice():
    ran = []
    widget = confirm_button(
        "Remove 12 membership(s)", lambda: ran.append(1), count=12, warning="Dry run so far: nothing has been changed."
    )
    note, buttons, _ = widget.children
    first, confirm, cancel = buttons.children
    first.click()
    assert ran == [] and "12 memberships" in note.value and confirm.layout.display != "none"
    cancel.click()
    assert ran == [] and not first.disabled and "Dry run so far" in note.value
    first.click()
    confirm.click()
    assert ran == [1] and "read back from 8x8" in note.value and first.disabled and confirm.disabled
    confirm.click()
    assert ran == [1]  # once only


def test_a_handful_runs_on_one_click():
    ran = []
    widget = confirm_button("Remove 3 membership(s)", lambda: ran.append(1), count=3, warning="Dry run so far")
    widget.children[1].children[0].click()
    assert ran == [1] and "Dry run so far" not in widget.children[0].value


def test_the_connection_check_answers_what_it_read_or_stops(client, group, tmp_path):
    import socket

    import pytest

    from helpers.client import Client
    from helpers.errors import ConnectionCheckFailed
    from helpers.ui import require_connection

    assert require_connection(client) == {
        "connection": "ok",
        "sandbox": True,
        "account": "sandbox-account",
        "subaccount": "sandbox-subaccount",
        "contact_groups": 1,
    }
    with socket.socket() as closed:  # a port nothing listens on
        closed.bind(("127.0.0.1", 0))
        nowhere = client.settings.with_base_url(f"http://127.0.0.1:{closed.getsockname()[1]}")
    with pytest.raises(ConnectionCheckFailed, match="Connection FAILED: .* Fix the settings"):
        require_connection(Client(nowhere))


def test_a_readable_table_shows_every_cell_whole_and_wraps_only_long_text():
    import pandas as pd

    from helpers.ui import readable

    long = "lost opt-out: add to the group, then read it back; " * 3
    html = readable(pd.DataFrame({"time": ["2026-01-05 12:00"], "what": [long], "count": [3]}))._repr_html_()
    assert long.strip().replace("'", "&#x27;") in html  # whole: pandas would cut it at 50 characters with "..."
    assert html.count("white-space:nowrap") == 2 and html.count("white-space:normal") == 1
    assert "word-break:normal" in html and "break-all" not in html
    assert readable(pd.DataFrame({"a": ["<b>"]}))._repr_html_().count("&lt;b&gt;") == 1  # text, never markup
    assert html == readable(pd.DataFrame({"time": ["2026-01-05 12:00"], "what": [long], "count": [3]}))._repr_html_()
