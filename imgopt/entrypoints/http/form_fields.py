"""Form fields decoded with errors that say what was wrong: text, or several parts, sent where one file belongs."""

from typing import Any

from litestar.datastructures import UploadFile

from imgopt.entrypoints.http.errors import ApiError


def _is_file_field(target_type: Any) -> bool:
    return target_type is UploadFile


def _refuse_text_as_file(_: Any, value: Any) -> UploadFile:
    # Only reached when the part is not already a file: it was sent without a filename, as text,
    # or it was sent more than once (the form then holds a list of parts).
    if isinstance(value, list):
        raise ApiError(400, "one_file_part", f"send exactly one file part named 'file' (the CSV); got {len(value)}")
    raise ApiError(
        422,
        "missing_file",
        "the field 'file' must be a file upload (a form part with a filename, as curl -F file=@products.csv sends), "
        "not text",
    )


FILE_FIELDS_TAKE_ONLY_FILES = (_is_file_field, _refuse_text_as_file)
