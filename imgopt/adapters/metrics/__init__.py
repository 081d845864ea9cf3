"""Prometheus metrics: a registry per container, the worker's and the API's figures, timed ports, the queue."""
