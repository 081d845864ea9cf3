"""The reference for `api`: a bare Litestar handler answering with a fixed JSON document of the same size.

Run as `uvicorn bench.bare_app:app`; the document is given in BENCH_BARE_DOCUMENT (JSON text).
"""

import json
import os

from litestar import Litestar, get

DOCUMENT = json.loads(os.environ.get("BENCH_BARE_DOCUMENT", "{}"))


@get("/status/{request_id:str}")
async def status(request_id: str) -> dict:
    return DOCUMENT


@get("/health")
async def health() -> dict:
    return {"status": "ok"}


app = Litestar(route_handlers=[status, health])
