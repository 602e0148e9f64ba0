"""ripple's Chaos Toolkit experiments and the extension their probes and actions call."""
