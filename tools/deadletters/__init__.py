"""Operator tooling for the dead-letter topic: `python -m tools.deadletters list|replay`."""
