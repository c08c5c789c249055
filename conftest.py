"""For every pytest run, tests/ and notebooks/ (nbval) alike, set before any kernel starts.

Tests, nbval's kernels and papermill jobs (they inherit this environment) each get a fresh,
deterministic sandbox, never the operator's local one (helpers/local_sandbox.py), and write
runs/ and reports/ to a temporary folder, never the operator's.
"""

import atexit
import os
import shutil
import tempfile

import pytest

os.environ["EIGHTXEIGHT_SANDBOX"] = "fresh"
_OUTPUTS = tempfile.mkdtemp(prefix="runbook-tests-")
os.environ["EIGHTXEIGHT_OUTPUT_DIR"] = _OUTPUTS
os.environ.pop("EIGHTXEIGHT_RUN_DIR", None)
atexit.register(shutil.rmtree, _OUTPUTS, ignore_errors=True)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    """nbval executes each notebook alone, on its kernel's fresh sandbox: name the notebook before its
    kernel starts, so the sandbox holds what earlier notebooks leave (runbook.LEFT_BY_EARLIER_NOTEBOOKS).
    Settings (.env) are each test's own."""
    # a deploy saves what it deployed in .env: each test (and notebook) a file of its own, never the operator's
    os.environ["EIGHTXEIGHT_ENV_FILE"] = os.path.join(tempfile.mkdtemp(dir=_OUTPUTS), ".env")
    if item.path.suffix == ".ipynb":
        os.environ["EIGHTXEIGHT_SANDBOX_NOTEBOOK"] = item.path.stem
    else:
        os.environ.pop("EIGHTXEIGHT_SANDBOX_NOTEBOOK", None)


# The modules that take longest, longest first (seconds of one worker, measured with --junitxml on 2 cores; the
# browser test runs the runbook job twice, then JupyterLab). pytest.ini turns off xdist's own
# reordering by test count (--no-loadscope-reorder), which put the browser module near the end.
LONGEST_FIRST = (
    "test_browser.py",
    "test_notebook_jobs.py",
    "test_bulk.py",
    "test_check.py",
    "test_real_data.py",
    "test_policy.py",
    "test_properties.py",
    "test_docs.py",
    "test_reconcile.py",
    "test_adopt.py",
    "test_code_health.py",
)


def pytest_collection_modifyitems(items):
    """The longest modules first, so that on several workers they run beside the rest instead of
    after it (longest processing time first); the order within a module is kept."""
    items.sort(
        key=lambda item: LONGEST_FIRST.index(item.path.name) if item.path.name in LONGEST_FIRST else len(LONGEST_FIRST)
    )
