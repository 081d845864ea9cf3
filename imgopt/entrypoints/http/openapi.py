"""What the OpenAPI document says about errors and ids: each operation lists the problems it can answer."""

from http import HTTPStatus
from typing import Annotated

from litestar.openapi import ResponseSpec
from litestar.params import Parameter

from imgopt.entrypoints.http.errors import PROBLEM_MEDIA_TYPE
from imgopt.entrypoints.http.schemas import Problem

# What each status means in this API, with the `code`s it carries; docs/api.md says when each is given.
_MEANINGS = {
    400: "Malformed: a bad id, parameter or body (`invalid_id`, `invalid_request`, `bad_request`)",
    404: "No upload has this id (`request_not_found`)",
    409: "The upload has not finished yet (`request_not_finished`)",
    413: "Larger than a limit: the body, the form or the rows (`payload_too_large`, `form_too_large`, `too_many_rows`)",
    415: "Not the media type the operation reads (`unsupported_media_type`)",
    422: "Well-formed but refused: a bad CSV, option, URL or webhook (`invalid_csv`, `invalid_options`, "
    "`missing_file`, `unsafe_url`, `invalid_webhook`)",
    503: "Not ready: the database does not answer or is not migrated (`not_ready`)",
}


def problems(*statuses: int, meanings: dict[int, str] | None = None) -> dict[int, ResponseSpec]:
    """An operation's error responses, each a problem document: `@get(..., responses=problems(400, 404))`;
    `meanings` words a status for this operation where the usual meaning does not fit."""
    meanings = {**_MEANINGS, **(meanings or {})}
    return {
        status: ResponseSpec(
            data_container=Problem,
            media_type=PROBLEM_MEDIA_TYPE,
            description=meanings.get(status, HTTPStatus(status).phrase),
            generate_examples=False,
        )
        for status in statuses
    }


RequestIdPath = Annotated[str, Parameter(description="The upload's `requestId`", schema_extra={"format": "uuid"})]
