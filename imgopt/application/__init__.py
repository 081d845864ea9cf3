"""Ports and use cases: what imgopt does, independent of how it is wired."""
