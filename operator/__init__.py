"""ripple's Kopf operator, its Job builder, the journal-to-status logic and the in-pod runner."""
