"""imgopt: optimize product photos listed in a CSV; a Litestar API, a worker, and a library.

To use it from Python, build the container (`imgopt.bootstrap.containers.create_container`) and
call its use cases; docs/architecture.md shows how.
"""
