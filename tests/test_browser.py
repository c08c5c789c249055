"""The interactive runbook in a real browser: JupyterLab on 127.0.0.1, driven in Debian's Chromium by Playwright.

What a person does on day one: open notebook 00, run it, save the sandbox choice with the
form; open notebook 05, run it, see the plan's chart, press Apply, see the checked outcome.
No "Error displaying widget", no error in the browser's console. The kernels get fresh
sandboxes (EIGHTXEIGHT_SANDBOX=fresh, from conftest.py) and the form writes a temporary .env,
never the operator's.

Where no browser can be had these tests skip with the reason (pytest -rs prints it); `.ci/run`
installs Chromium from Debian's packages first when it can.
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from dev import lab_working_copies  # noqa: E402  (what `python3 dev.py lab` serves: copies, never the committed)

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
TOKEN = "runbook-browser-test"

try:
    from playwright.sync_api import sync_playwright
except ImportError:  # pragma: no cover - requirements.txt installs it
    sync_playwright = None

pytestmark = [
    pytest.mark.skipif(sync_playwright is None, reason="playwright is not installed (requirements.txt has it)"),
    pytest.mark.skipif(CHROMIUM is None, reason="no Chromium on this machine: .ci/run installs Debian's chromium "
                                                "when it runs as root; install it with `apt-get install chromium`"),
]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """JupyterLab on the project's notebooks, on 127.0.0.1, stopped at the end of the module."""
    home = tmp_path_factory.mktemp("lab")
    port = _free_port()
    env = {**os.environ, "EIGHTXEIGHT_ENV_FILE": str(home / ".env"), "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
           "JUPYTER_CONFIG_DIR": str(home / "config"), "JUPYTER_DATA_DIR": str(home / "data")}
    for name in ("EIGHTXEIGHT_API_KEY", "EIGHTXEIGHT_BASE_URL"):
        env.pop(name, None)
    data_dirs = [str(Path(sys.prefix) / "share" / "jupyter")]  # the widget extension lives there
    env["JUPYTER_PATH"] = os.pathsep.join(data_dirs)
    log = open(home / "lab.log", "w")
    process = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip", "127.0.0.1", "--port", str(port),
         f"--IdentityProvider.token={TOKEN}", "--ServerApp.open_browser=False", "--allow-root",
         "--LabApp.news_url=", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
         "--notebook-dir", str(lab_working_copies(home / "notebooks"))],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
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


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-sync",
                  "--disable-background-networking", "--disable-component-update"])
        yield chromium
        chromium.close()


def open_and_run(browser, base: str, notebook: str):
    """Open a notebook in JupyterLab and run all its cells, as a person would from the Run menu."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{base}/lab/tree/{notebook}?token={TOKEN}", wait_until="domcontentloaded")
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
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


def assert_clean(page, errors: list[str]) -> None:
    assert page.locator("text=Error displaying widget").count() == 0
    serious = [e for e in errors if "favicon" not in e and "Failed to load resource: the server responded with a "
               "status of 404" not in e]
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
    page.wait_for_selector("text=Done: the outcome below was read back from 8x8.", timeout=90_000)
    outputs = page.locator(".jp-OutputArea-output")  # not the cells' code, which names the same words
    assert outputs.filter(has_text="Dry run so far: nothing has been changed.").count() == 0
    assert outputs.filter(has_text="Outcome: 3 removed").count() >= 1  # the widget's output sits in the cell's
    assert_clean(page, errors)
    page.close()
