"""ripple's Chaos Toolkit extension: the probes and actions experiments name as modules."""
