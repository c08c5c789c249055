"""Benchmark: the runbook job on a fresh sandbox, its kernels started ahead against one at a time.

    .venv/bin/python benchmarks/runbook.py [--runs 3]

Each run is ``python -m helpers runbook`` in a fresh interpreter on a sandbox of its own (a new
folder each time), the sandbox stopped after it. "ahead" is the job as it is
(``runbook.KernelsAhead``: each notebook's kernel started while the notebook before it runs, the
imports every notebook starts with done in it then, and shut down in the background once its
notebook has ended). "one at a time" is nbclient's own way:
a notebook's kernel started when it begins and shut down before the next begins. The two run in
turn, ``--runs`` times each; the figures are wall seconds of the whole job, interpreter start
included.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

ONE_AT_A_TIME = """
import sys
from helpers import runbook
from helpers.__main__ import main


class OneAtATime(runbook.KernelsAhead):
    def next(self):
        if self._current is not None:
            runbook._shut_down(self._current)
        self._current = self._manager_class(kernel_name="python3")
        self._current.start_kernel(cwd=str(runbook.ROOT), extra_arguments=["--HistoryManager.hist_file=:memory:"])
        return self._current


runbook.KernelsAhead = OneAtATime
sys.exit(main(["runbook"]))
"""
AHEAD = "import sys; from helpers.__main__ import main; sys.exit(main(['runbook']))"


def job_seconds(code: str) -> float:
    with tempfile.TemporaryDirectory(prefix="runbook-bench-") as home:
        env = {k: v for k, v in os.environ.items() if not k.startswith("EIGHTXEIGHT_")}
        env |= {"EIGHTXEIGHT_SANDBOX_DIR": f"{home}/.sandbox", "EIGHTXEIGHT_OUTPUT_DIR": home}
        started = time.perf_counter()
        try:
            subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True, capture_output=True)
            return time.perf_counter() - started
        finally:
            stop = [sys.executable, "-m", "helpers", "sandbox", "--stop"]
            subprocess.run(stop, cwd=ROOT, env=env, capture_output=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    ahead, one_at_a_time = [], []
    for _ in range(args.runs):
        one_at_a_time.append(job_seconds(ONE_AT_A_TIME))
        ahead.append(job_seconds(AHEAD))
    for name, figures in (("one at a time", one_at_a_time), ("ahead", ahead)):
        shown = ", ".join(f"{s:.1f}" for s in figures)
        print(f"runbook job, kernels {name}: median {statistics.median(figures):.1f} s ({shown})")


if __name__ == "__main__":
    main()
