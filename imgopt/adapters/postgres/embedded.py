"""An embedded PostgreSQL for one host with nothing installed: the `pgserver` wheel, in a directory of ours."""

import warnings
from pathlib import Path


class EmbeddedPostgresMissing(RuntimeError):
    pass


def embedded_postgres_url(directory: Path) -> str:
    """Start (or join) a PostgreSQL server kept in `directory`; it stops when the last process using it exits."""
    try:
        import pgserver
    except ImportError:
        raise EmbeddedPostgresMissing(
            "IMGOPT_DATABASE_URL is not set and the embedded PostgreSQL is not installed: "
            "set IMGOPT_DATABASE_URL, or pip install 'imgopt[embedded]'"
        ) from None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns when XDG_RUNTIME_DIR is unset
        directory.mkdir(parents=True, exist_ok=True)
        server = pgserver.get_server(directory.resolve(), cleanup_mode="stop")
    return server.get_uri()
