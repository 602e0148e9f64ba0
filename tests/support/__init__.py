"""Helpers shared by ripple's test tiers."""
