"""The docs site builds with --strict (a broken link, a missing page or anchor fails), and its
reference is the code's: every command, option, setting and control is in it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import support

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    out = tmp_path_factory.mktemp("site")
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
        env={**os.environ, "DISABLE_MKDOCS_2_WARNING": "true"},
    )
    assert done.returncode == 0, done.stderr[-4000:]
    return out


def text_of(page: Path) -> str:
    return re.sub(r"<[^>]+>", " ", page.read_text(encoding="utf-8"))


def test_the_command_reference_has_every_command_and_option(site):
    from helpers.cli import build_parser

    page = text_of(site / "reference" / "commands" / "index.html")
    parser = build_parser()
    commands = next(a for a in parser._actions if a.dest == "command").choices
    for name, command in commands.items():
        assert f"python -m helpers {name}" in page, name
        for action in command._actions:
            for option in action.option_strings:
                if option not in ("-h", "--help", "--serve-local"):
                    assert option in page, f"{name} {option}"


def test_the_settings_reference_has_every_variable_the_code_reads(site):
    from helpers.config import OTHER_VARIABLES_DOC, SETTINGS_DOC

    page = text_of(site / "reference" / "settings" / "index.html")
    read = set()
    for package in ("helpers", "sandbox"):
        for source in (ROOT / package).rglob("*.py"):
            read |= set(re.findall(r"EIGHTXEIGHT_[A-Z_]+[A-Z]", source.read_text(encoding="utf-8")))
    documented = set(SETTINGS_DOC) | set(OTHER_VARIABLES_DOC)
    assert read - documented == set()
    assert all(name in page for name in documented)


def test_the_tutorial_is_the_committed_notebooks_with_their_outputs(site):
    page = text_of(site / "tutorial" / "04_test_opt_outs" / "index.html")
    assert "test messages did what was expected" in page
    assert len(list((site / "tutorial").glob("0*_*/index.html"))) == len(list((ROOT / "notebooks").glob("0*_*.ipynb")))


def test_the_sandbox_reference_lists_its_routes_and_controls(site):
    from sandbox.control import CONTROLS

    page = text_of(site / "reference" / "sandbox-api" / "index.html")
    assert "/api/v1/accounts/{accountId}/groups" in page
    assert all(path in page for _, path, _, _ in CONTROLS)


@pytest.fixture(scope="module")
def served(site):
    """The built site, served on 127.0.0.1 for the module."""
    import functools
    import threading
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(site))
    handler.log_message = lambda *args: None
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser():
    with support.chromium() as launched:
        yield launched


SCREENSHOTS = ROOT / "runs" / "browser-test"


@pytest.mark.parametrize(
    "path, heading, shot",
    [
        ("", "8x8 Opt-Out Runbook", "docs_home.png"),
        ("how-to/go-live/", "Go live", "docs_how_to_go_live.png"),
        ("reference/commands/", "Commands", "docs_command_reference.png"),
        ("tutorial/04_test_opt_outs/", "test messages did what was expected", "docs_notebook_04.png"),
    ],
)
def test_the_docs_site_shows_its_pages(served, browser, path, heading, shot):
    """Each page in a browser: its heading, the four sections in the navigation, nothing wider than
    the window. The screenshot is kept in runs/browser-test/ (git-ignored) for a person to look at."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(f"{served}/{path}", wait_until="load")
    assert page.locator(f"text={heading}").count() >= 1
    nav = page.locator("nav.md-nav--primary")
    assert all(
        nav.locator(f"text={section}").count() >= 1
        for section in ("Tutorial", "How-to guides", "Reference", "Explanation")
    )
    width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], f"{path} is wider than the window: {width}"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / shot))
    page.close()
