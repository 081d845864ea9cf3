"""Composition root: configuration and the containers that bind ports to adapters."""
