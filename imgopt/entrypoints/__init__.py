"""Entrypoints: the HTTP API, the worker process and the command line."""
