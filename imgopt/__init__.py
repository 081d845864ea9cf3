"""imgopt: optimize product photos listed in a CSV; a Litestar API, a worker, and a library.

To use it from Python, build the container (`imgopt.bootstrap.containers.create_container`) and
call its use cases; docs/architecture.md shows how.
"""

# `imgopt.client` is its own distribution (imgopt-client, from clients/python/): installed, its
# imgopt/client/ lands in this directory; in a checkout (editable) it is another sys.path entry's
# imgopt/, which extend_path adds to this package's path.
__path__ = __import__("pkgutil").extend_path(__path__, __name__)
