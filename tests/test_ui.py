"""The notebooks' widgets, clicked from Python (the browser test clicks them for real)."""
from __future__ import annotations

from helpers.ui import confirm_button


def test_more_than_a_handful_of_changes_asks_twice():
    ran = []
    widget = confirm_button("Remove 12 membership(s)", lambda: ran.append(1), count=12,
                            warning="Dry run so far: nothing has been changed.")
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
