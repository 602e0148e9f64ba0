"""Everything that runs in a run's pod.

The built-in experiments, the Chaos Toolkit extension their activities call, the runner
(``ripple run-experiment``) and the load sidecar (``ripple load``).
"""
