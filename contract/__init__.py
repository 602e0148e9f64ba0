"""What the operator and the programs in a run's pod must agree on, written once.

Both sides import this package; it imports neither of them.
"""
