"""The load sidecar, ``ripple load``: vegeta at the target, its results as JSON lines."""
