"""The interactive runbook in a real browser: JupyterLab on 127.0.0.1, driven in Debian's Chromium by Playwright.

What a person does on the second day, in the README's order: `python -m helpers runbook` run
twice on one local sandbox, then JupyterLab on the same sandbox. Notebook 00: run it, save the
sandbox choice with the form. Notebook 04: the same sync demo and sample counts as both runbook
runs. Notebook 05: the plan's chart, the button pressed, the checked outcome. Notebook 07: the
window ends today, and the first screen of the ledger holds every action, with no table wider
than the page. No "Error displaying widget", no error in the browser's console; the committed
notebooks are left as they were (Lab works on copies). Screenshots of 04, 05 and 07 are kept in
runs/browser-test/ (git-ignored). The local sandbox is the test's own (EIGHTXEIGHT_SANDBOX_DIR),
and the form writes a temporary .env, never the operator's.

Where no browser can be had these tests skip with the reason (pytest -rs prints it); `.ci/run`
installs Chromium from Debian's packages first when it can.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from support import CHROMIUM, NO_CHROMIUM, chromium

from dev import lab_working_copies
from helpers.record import recorded

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "runbook-browser-test"

try:
    import playwright.sync_api
except ImportError:  # pragma: no cover - requirements.txt installs it
    playwright = None

pytestmark = [  # before the fixtures run the runbook twice: support.chromium would skip only after
    pytest.mark.skipif(playwright is None, reason="playwright is not installed (requirements.txt has it)"),
    pytest.mark.skipif(CHROMIUM is None, reason=NO_CHROMIUM),
]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


SCREENSHOTS = ROOT / "runs" / "browser-test"


def _git_status(path: Path) -> str:
    answer = subprocess.run(["git", "status", "--porcelain", "--", str(path)], cwd=ROOT, capture_output=True, text=True)
    return answer.stdout if answer.returncode == 0 else "(not a git checkout)"


@pytest.fixture(scope="module")
def used_sandbox(tmp_path_factory):
    """A local sandbox of the test's own, on which the runbook job has run twice (the README's order)."""
    home = tmp_path_factory.mktemp("used-sandbox")
    env = {**os.environ, "EIGHTXEIGHT_SANDBOX_DIR": str(home / ".sandbox"), "EIGHTXEIGHT_OUTPUT_DIR": str(home)}
    for name in ("EIGHTXEIGHT_API_KEY", "EIGHTXEIGHT_BASE_URL", "EIGHTXEIGHT_SANDBOX", "EIGHTXEIGHT_RUN_DIR"):
        env.pop(name, None)
    runs = []
    try:
        for _ in range(2):
            job = subprocess.run(
                [sys.executable, "-m", "helpers", "runbook"],
                cwd=ROOT,
                env=env,
                capture_output=True,
                text=True,
                timeout=600,
            )
            assert job.returncode == 0, job.stdout[-3000:] + job.stderr[-3000:]
            runs.append(max((home / "runs").iterdir(), key=lambda p: p.stat().st_mtime))
        yield env, runs
    finally:
        subprocess.run(
            [sys.executable, "-m", "helpers", "sandbox", "--stop"], cwd=ROOT, env=env, capture_output=True, timeout=60
        )


@pytest.fixture(scope="module")
def lab(tmp_path_factory, used_sandbox):
    """JupyterLab on working copies of the notebooks, on 127.0.0.1, talking to the used local sandbox;
    stopped at the end of the module, the committed notebooks as they were before."""
    home = tmp_path_factory.mktemp("lab")
    port = _free_port()
    committed_before = _git_status(ROOT / "notebooks")
    env = {
        **used_sandbox[0],
        "EIGHTXEIGHT_ENV_FILE": str(home / ".env"),
        "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
        "JUPYTER_CONFIG_DIR": str(home / "config"),
        "JUPYTER_DATA_DIR": str(home / "data"),
    }
    data_dirs = [str(Path(sys.prefix) / "share" / "jupyter")]  # the widget extension lives there
    env["JUPYTER_PATH"] = os.pathsep.join(data_dirs)
    log = open(home / "lab.log", "w")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jupyterlab",
            "--no-browser",
            "--ip",
            "127.0.0.1",
            "--port",
            str(port),
            f"--IdentityProvider.token={TOKEN}",
            "--ServerApp.open_browser=False",
            "--allow-root",
            "--LabApp.news_url=",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
            "--notebook-dir",
            str(lab_working_copies(home / "notebooks")),
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{base}/api/status", params={"token": TOKEN}, timeout=2).status_code == 200:
                break
        except requests.RequestException:
            pass
        if process.poll() is not None:
            pytest.fail(f"JupyterLab exited: {(home / 'lab.log').read_text()[-2000:]}")
        time.sleep(0.5)
    else:
        process.kill()
        pytest.fail("JupyterLab did not start within 90 s")
    yield base, home
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
    log.close()
    assert _git_status(ROOT / "notebooks") == committed_before, "a Lab session changed the committed notebooks"


@pytest.fixture(scope="module")
def browser():
    with chromium() as launched:
        yield launched


def open_and_run(browser, base: str, notebook: str):
    """Open a notebook in JupyterLab and run all its cells, as a person would from the Run menu."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{base}/lab/tree/{notebook}?token={TOKEN}&reset", wait_until="domcontentloaded")  # no earlier tabs
    page.wait_for_selector(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell", timeout=60_000)
    wait_for_kernel(base, notebook)
    page.wait_for_timeout(1000)  # the page's own connection to the kernel settles after the server's
    page.click(".lm-MenuBar-item:has-text('Run')")
    page.click(".lm-Menu-item:has-text('Run All Cells')")
    return page, errors


def wait_for_kernel(base: str, notebook: str, timeout: float = 90) -> None:
    """Until the notebook's kernel is started and idle, as the server tells it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        sessions = requests.get(f"{base}/api/sessions", params={"token": TOKEN}, timeout=5).json()
        states = [s["kernel"]["execution_state"] for s in sessions if s.get("path", "").endswith(notebook)]
        if states and states[0] == "idle":
            return
        time.sleep(0.5)
    raise AssertionError(f"the kernel of {notebook} did not start within {timeout:g} s")


def wait_until_idle(base: str, notebook: str, page, timeout: float = 120) -> None:
    """Until every cell ran: the kernel idle and no cell waiting ("[*]")."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        page.wait_for_timeout(500)
        if page.locator(".jp-InputPrompt:has-text('[*]')").count() == 0:
            wait_for_kernel(base, notebook, timeout=deadline - time.monotonic())
            return
    raise AssertionError(f"{notebook} did not finish within {timeout:g} s")


def keep_screenshot(page, name: str) -> None:
    """The screen as it is now, kept in runs/browser-test/ (git-ignored) for a person to look at."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / name))


def assert_clean(page, errors: list[str]) -> None:
    assert page.locator("text=Error displaying widget").count() == 0
    serious = [
        e
        for e in errors
        if "favicon" not in e and "Failed to load resource: the server responded with a status of 404" not in e
    ]
    assert serious == [], serious


def test_notebook_00_form_saves_the_sandbox_choice(lab, browser):
    base, home = lab
    page, errors = open_and_run(browser, base, "00_setup.ipynb")
    page.wait_for_selector("text=Connection OK", timeout=90_000)
    checkbox = page.get_by_label("Use the sandbox (no key, nothing reaches 8x8)")
    assert checkbox.is_checked()
    assert page.locator("input[type='password']").is_disabled()  # no key can be typed in sandbox mode
    page.click("button:has-text('Save .env (sandbox)')")
    page.wait_for_selector("text=Sandbox chosen: .env now holds no key", timeout=30_000)
    saved = (home / ".env").read_text()
    assert "EIGHTXEIGHT_API_KEY=" not in saved and "EIGHTXEIGHT_REGION=asia" in saved
    assert_clean(page, errors)
    page.close()


def test_notebook_05_plan_chart_then_apply_shows_the_checked_outcome(lab, browser):
    base, _ = lab
    page, errors = open_and_run(browser, base, "05_bulk_remove_from_csv.ipynb")
    page.wait_for_selector("text=Dry run: nothing was changed", timeout=90_000)
    page.wait_for_selector(".jp-RenderedImage img", timeout=30_000)  # the plan's chart
    page.click("button:has-text('Remove 3 membership(s)')")
    page.wait_for_selector("text=Done: the check found no valid number of the file in the group.", timeout=60_000)
    page.wait_for_selector("text=Done: the outcome below was read back from the sandbox.", timeout=90_000)
    outputs = page.locator(".jp-OutputArea-output")  # not the cells' code, which names the same words
    assert outputs.filter(has_text="Dry run so far: nothing has been changed.").count() == 0
    assert outputs.filter(has_text="Outcome: 3 removed").count() >= 1  # the widget's output sits in the cell's
    page.locator(".jp-OutputArea-output", has_text="Outcome: 3 removed").first.scroll_into_view_if_needed()
    keep_screenshot(page, "05_after_the_button.png")
    assert_clean(page, errors)
    page.close()


def test_notebook_04_shows_what_both_runbook_runs_showed(lab, browser, used_sandbox):
    base, _ = lab
    for run in used_sandbox[1]:  # the job's two runs: the same lesson and the same sample counts
        values = recorded(run / "04_test_opt_outs.ipynb")
        assert (values["pre_send"]["may_send"], values["pre_send"]["of"]) == (3, 6)
        assert [(row["state"], row["errorCode"]) for row in values["sync_demo"]] == [
            ("delivered", ""),
            ("undelivered", 15),
            ("undelivered", 15),
        ]
        assert values["tests"]["as_expected"] == values["tests"]["messages"]
    page, errors = open_and_run(browser, base, "04_test_opt_outs.ipynb")
    page.wait_for_selector("text=may be sent to", timeout=120_000)
    wait_until_idle(base, "04_test_opt_outs.ipynb", page)
    outputs = page.locator(".jp-OutputArea-output")
    assert outputs.filter(has_text="3 of 6 may be sent to").count() == 1
    demo = page.locator("table", has_text="right after the opt-out")
    rows = [demo.locator("tbody tr").nth(i).inner_text() for i in range(3)]
    assert "delivered" in rows[0] and "undelivered" not in rows[0]
    assert all("undelivered" in row and "15" in row for row in rows[1:])
    verdict = outputs.filter(has_text="test messages did what was expected").first
    verdict.evaluate("el => el.scrollIntoView({block: 'start'})")
    page.wait_for_timeout(300)
    keep_screenshot(page, "04_verdict.png")
    page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Cell").first.evaluate(
        "el => el.scrollIntoView({block: 'start'})"
    )
    page.wait_for_timeout(300)
    keep_screenshot(page, "04_first_screen.png")  # the notebook as it opens: its title and what it does
    assert_clean(page, errors)
    page.close()


def test_notebook_07_ends_today_and_its_first_screen_holds_every_action(lab, browser):
    base, _ = lab
    page, errors = open_and_run(browser, base, "07_audit_and_repair_opt_outs.ipynb")
    page.wait_for_selector(".jp-OutputArea-output:has-text('Window:')", timeout=120_000)
    wait_until_idle(base, "07_audit_and_repair_opt_outs.ipynb", page, timeout=180)
    ledger = page.locator(".jp-OutputArea-output", has_text="lost opt-out: add to the group:").first
    ledger.evaluate("el => el.scrollIntoView({block: 'start'})")  # the ledger's output at the top of the screen
    page.wait_for_timeout(500)
    text = ledger.text_content()
    window = re.search(r"Window: (\S+) to (\S+) ", text)
    today = datetime.now(UTC).date().isoformat()
    assert window and window.group(2).startswith(today), (window and window.group(0)) or text[:3000]
    assert text.index("lost opt-out") < text.index("cannot repair") < text.index("Workflows:")  # actions first
    where = ledger.evaluate("""el => {
        const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
        for (let node = walker.nextNode(); node; node = walker.nextNode()) {
            const at = node.textContent.indexOf('Workflows:');
            if (at >= 0) {
                const range = document.createRange();
                range.setStart(node, at); range.setEnd(node, at + 10);
                return [range.getBoundingClientRect().bottom, window.innerHeight];
            }
        }
        return null;
    }""")
    assert where and where[0] <= where[1], f"an action line is below the first screen: {where}"
    for table in page.locator(".jp-OutputArea-output table").all():  # no result off the right edge
        width = table.evaluate(
            "t => [t.scrollWidth, t.closest('.jp-OutputArea-output').clientWidth, "
            "t.querySelector('thead') ? t.querySelector('thead').textContent.trim() : '']"
        )
        assert width[0] <= width[1], width
    keep_screenshot(page, "07_audit_first_screen.png")
    page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Cell").first.evaluate(
        "el => el.scrollIntoView({block: 'start'})"
    )
    page.wait_for_timeout(300)
    keep_screenshot(page, "07_first_screen.png")
    assert_clean(page, errors)
    page.close()
