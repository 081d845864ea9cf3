"""Product CSVs in the original's format, two distinct image URLs per row, generated once and reused."""

from pathlib import Path

from bench.workspace import work_dir
from imgopt.domain.product_csv import HEADER


def products_csv(rows: int) -> Path:
    path = work_dir("csv") / f"products-{rows}.csv"
    if path.is_file():
        return path
    partial = path.with_suffix(".part")
    with partial.open("w", newline="") as out:
        out.write(",".join(HEADER) + "\n")
        for start in range(1, rows + 1, 10_000):
            out.writelines(_row(serial) for serial in range(start, min(start + 10_000, rows + 1)))
    partial.rename(path)
    return path


def _row(serial: int) -> str:
    base = f"https://images.example-shop.com/catalogue/{serial // 1000:04d}/sku-{serial:07d}"
    return f'{serial},Product {serial} (colour {serial % 17}),"{base}-front.jpg,{base}-side.jpg"\n'
