"""A run's timeline, built in the run's pod from the load's results and the journal."""

from .build import build_timeline
from .end_of_run import (
    await_recovery,
    timeline_of_run,
    timeline_path,
    with_impact,
    with_timeline,
    write_timeline_file,
)
from .recovery import wait_for_recovery

__all__ = [
    "await_recovery",
    "build_timeline",
    "timeline_of_run",
    "timeline_path",
    "wait_for_recovery",
    "with_impact",
    "with_timeline",
    "write_timeline_file",
]
