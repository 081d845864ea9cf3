"""How the client commands tell people what happened: on stderr, so stdout stays for ids and JSON."""

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from imgopt.client import ApiError, Status

# Exit codes: 0 done (every image optimized), 1 finished with failed images, 2 bad usage,
# 3 refused by the API, 4 the API could not be reached or the wait ran out, 130 stopped by Ctrl-C.
IMAGES_FAILED, REFUSED, GAVE_UP, INTERRUPTED = 1, 3, 4, 130
# Enough failures to see what kind they are; the output CSV and the details have all of them.
FAILURES_SHOWN = 20


def problem(console: Console, error: ApiError) -> None:
    # What the server says quotes the user's CSV, which may hold anything rich would read as markup.
    console.print(
        f"[bold red]Refused ({error.status} {escape(error.code)}):[/] {escape(error.detail)}", highlight=False
    )
    if not error.errors:
        return
    table = Table("Line", "Column", "Problem", title="Problems in the CSV, by line", title_justify="left")
    for line in error.errors:
        table.add_row(str(line.line), Text(line.column or "—"), Text(line.message))
    console.print(table)
    if (error.problem.error_count or 0) > len(error.errors):
        console.print(f"…and {error.problem.error_count - len(error.errors)} more not listed.")


def summary(console: Console, status: Status) -> None:
    images = status.images
    table = Table(show_header=False, title=f"Request {status.request_id}: {status.status}", title_justify="left")
    table.add_column(no_wrap=True)
    table.add_column(overflow="fold")
    table.add_row("Images", f"{images.total} ({images.optimized} optimized, {images.failed} failed, {_left(status)})")
    table.add_row("Products", f"{status.products.finished} of {status.products.total} finished")
    saved = "" if status.saving is None else f" ({status.saving:.1%} saved)"
    table.add_row("Bytes before → after", f"{status.bytes_in:,} → {status.bytes_out:,}{saved}")
    table.add_row("Output CSV", status.output_csv_url or "when finished")
    console.print(table)


def failures(console: Console, status: Status) -> None:
    """The failed images of `status` (which carries its details), each with its reason."""
    failed = [(p, i) for p in status.details.products for i in p.images if i.status == "failed"]
    console.print(f"[bold red]{len(failed)} of {status.images.total} images failed:[/]")
    for product, image in failed[:FAILURES_SHOWN]:
        line = f"  line {product.line} ({product.name}), {image.input_url}: {image.failure_reason}"
        console.print(line, markup=False, highlight=False, soft_wrap=True)
    if len(failed) > FAILURES_SHOWN:
        more = len(failed) - FAILURES_SHOWN
        console.print(f"  …and {more} more: imgopt status {status.request_id} --details", soft_wrap=True)


def _left(status: Status) -> str:
    return f"{status.images.pending + status.images.processing} left"
