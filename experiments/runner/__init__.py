"""The runner, ``ripple run-experiment``: one Chaos Toolkit run, its journal and rollbacks."""
