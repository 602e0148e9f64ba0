"""A run's pod starts its experiment without loading what only the run's end needs.

The Kubernetes client (the journal's ConfigMap) and the timeline's pydantic models are
imported when the journal is delivered; an activity that needs the client loads it itself.
"""

from __future__ import annotations

import subprocess
import sys

LATE = ("kubernetes", "pydantic", "chaosk8s", "ripple_contract.timeline")


def test_the_runner_module_loads_without_the_end_of_run_modules() -> None:
    probe = (
        "import sys, experiments.runner.run\n"
        f"print(','.join(m for m in {LATE!r} if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == "", f"loaded before the run: {done.stdout.strip()}"
