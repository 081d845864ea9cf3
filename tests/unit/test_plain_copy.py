"""The compiled scanner against the Python path: whatever block it takes, the bytes and counts are the Python path's."""

import csv
import hashlib
import io
import subprocess
import sys
import uuid
from contextlib import contextmanager

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from imgopt.adapters.postgres.plain_copy import COMPILED, PlainCopy
from imgopt.adapters.postgres.product_copy import ProductCopy
from imgopt.domain.plain_csv import NotPlain, PlainCsv, PlainLines
from imgopt.domain.product_csv import CsvLimits, CsvTooLarge
from tests.support import csv_bytes
from tests.unit.test_plain_csv import SMALL, files

pytestmark = pytest.mark.skipif(not COMPILED, reason="the compiled scanner was not built (no C compiler at install)")

REQUEST = uuid.UUID("5f0c4a52-1d6e-4b8e-9a53-0c7d2e1f9b10")
TINY = CsvLimits(max_rows=3, max_urls_per_row=3, max_name_length=8, max_url_length=24)


def counts(plain: PlainCsv) -> dict[str, object]:
    """Every count and flag the reader keeps, whatever their names."""
    return {name: value for name, value in vars(plain).items() if name != "_stream"}


def outcome(read, plain: PlainCsv) -> tuple[object, dict[str, object]]:
    try:
        result = read()
    except (NotPlain, CsvTooLarge) as error:
        result = type(error)
    return result, counts(plain)


def after(limits: CsvLimits, earlier: bytes | None) -> PlainCsv:
    """A reader that has counted `earlier` (a block of lines 2 onwards) in Python already."""
    plain = PlainCsv(io.BytesIO(b""), limits)
    if earlier:
        plain.read(PlainLines(earlier, 2))
    return plain


def compare_block(data: bytes, limits: CsvLimits = CsvLimits(), earlier: bytes | None = None) -> bool:
    """The scanner declines the block or reads it as the Python path does; True when it read it."""
    first_line = 2 + (earlier.count(b"\n") if earlier else 0)
    lines = PlainLines(data, first_line)
    compiled_reader, python_reader = after(limits, earlier), after(limits, earlier)

    compiled = outcome(lambda: PlainCopy(REQUEST).compiled_block(compiled_reader, lines), compiled_reader)
    if compiled[0] is None:
        assert counts(compiled_reader) == counts(python_reader)  # declining counts nothing
        return False
    python = outcome(lambda: ProductCopy(REQUEST).block(python_reader.read(lines)), python_reader)

    assert compiled == python
    return True


def read_file(data: bytes, limits: CsvLimits, compiled: bool) -> tuple[object, dict[str, object]]:
    plain = PlainCsv(io.BytesIO(data), limits)
    return outcome(lambda: b"".join(PlainCopy(REQUEST, compiled).blocks(plain)), plain)


def rows(*lines: str, end: str = "\n") -> bytes:
    return "".join(line + end for line in lines).encode()


ROW = "1,A,https://a.example/1"


@pytest.mark.parametrize(
    ("data", "limits", "taken"),
    [
        (rows(ROW, "2,B,http://b.example"), CsvLimits(), True),
        (
            rows("1,A,http://a.example:0", "2,A,http://a.example:65535/x", "3,A,http://a.example:0000"),
            CsvLimits(),
            True,
        ),
        (rows("4,A,http://a.example:00080", "5,A,HTTPS://A.EXAMPLE:9999?q#f"), CsvLimits(), False),
        (rows("1,A,http://a.example:65536"), CsvLimits(), False),
        (rows("1,A,http://a.example:00000"), CsvLimits(), False),
        (rows("1,A,http://a.example:123456"), CsvLimits(), False),
        (rows("1,A,http://a.example:"), CsvLimits(), False),
        (rows("1,A,https://a-.example/x"), CsvLimits(), True),
        (rows("1,A,https://a.example-/x"), CsvLimits(), False),
        (rows("1,A,https://-a.example/x"), CsvLimits(), False),
        (rows("1,A,https://a.example./x"), CsvLimits(), False),
        (rows("1,A,https://a"), CsvLimits(), True),
        (rows("1,A,https:/a.example"), CsvLimits(), False),
        (rows("1,A,ftp://a.example"), CsvLimits(), False),
        (rows("1,A,hTtPs://a.example#", "2,A,http://a.example?", "3,A,http://a.example/"), CsvLimits(), True),
        (rows("0,A,https://a.example"), CsvLimits(), False),
        (rows("000,A,https://a.example"), CsvLimits(), False),
        (rows("007,A,https://a.example"), CsvLimits(), True),
        (rows("999999999999999999,A,https://a.example"), CsvLimits(), True),
        (rows("1234567890123456789,A,https://a.example"), CsvLimits(), False),
        (rows(",A,https://a.example"), CsvLimits(), False),
        (rows("3,A,https://a.example/3", "2,B,https://a.example/2", "2,C,https://a.example/2"), CsvLimits(), True),
        (rows("1," + "N" * 1000 + ",https://a.example", '2,"' + "N" * 1000 + '",https://a.example'), CsvLimits(), True),
        (rows("1," + "N" * 1001 + ",https://a.example"), CsvLimits(), False),
        (rows('1,"' + "N" * 1001 + '",https://a.example'), CsvLimits(), False),
        (rows('1,"Shirt, blue",https://a.example', '2,"A ""B""",https://a.example'), CsvLimits(), False),
        (rows('1,"Shirt, blue",https://a.example', '2,"x",https://a.example'), CsvLimits(), True),
        (rows('1,TV 55",https://a.example'), CsvLimits(), False),
        (rows("1, A,https://a.example"), CsvLimits(), False),
        (rows("1,A ,https://a.example"), CsvLimits(), False),
        (rows("1,A B,https://a.example"), CsvLimits(), True),
        (rows('1," A",https://a.example'), CsvLimits(), False),
        (rows("1,A\tB,https://a.example"), CsvLimits(), False),
        (rows("1,Café,https://a.example"), CsvLimits(), False),
        (rows("1,A,https://a.example/é"), CsvLimits(), False),
        (rows(ROW, "2,B,http://b.example", end="\r\n"), CsvLimits(), True),
        (rows(ROW, end="\r\r\n"), CsvLimits(), False),
        (rows(ROW)[:-1], CsvLimits(), False),
        (rows(ROW, "2,B,https://a.example/2")[:-10], CsvLimits(), False),
        (rows(ROW, "", "2,B,https://a.example/2"), CsvLimits(), False),
        (rows(ROW, ",,"), CsvLimits(), False),
        (b"", CsvLimits(), False),
        (rows('1,A,"https://a.example/1,https://a.example/2,https://a.example/3"'), TINY, True),
        (rows('1,A,"https://a.example/1,https://a.example/2,https://a.example/3,http://a.example"'), TINY, False),
        (rows('1,A,"https://a.example/1, https://a.example/2"'), CsvLimits(), False),
        (rows('1,A,"https://a.example/1,"'), CsvLimits(), False),
        (rows('1,A,""'), CsvLimits(), False),
        (rows('1,A,"https://a.example/1"'), CsvLimits(), True),
        (rows('1,A,"https://a.example/1",'), CsvLimits(), False),
        (rows("1,A,https://a.example/1,https://a.example/2"), CsvLimits(), False),
        (rows('1,A,"https://cdn.example/w_100,h_50/a.jpg"'), CsvLimits(), False),
        (rows('1,A,"https://a.example/1,https://a.example/2"'), CsvLimits(), True),
        (rows("1,A,https://a.example/123456"), TINY, True),
        (rows("1,A,https://a.example/1234567"), TINY, True),
        (rows(ROW, "2,A,https://a", "3,A,https://a", "4,A,https://a"), TINY, True),
        (rows("1,12345678,https://a", "2,123456789,https://a"), TINY, False),
    ],
)
def test_the_scanner_takes_the_common_shapes_and_reads_them_as_the_python_path(data, limits, taken):
    assert compare_block(data, limits) is taken


def test_the_scanner_takes_a_block_cut_anywhere_a_line_ends_and_counts_on_from_earlier_blocks():
    data = csv_bytes(*(f"{n},Product {n},https://a.example/{n}.jpg" for n in range(1, 400)))
    body = data[data.index(b"\n") + 1 :]
    cuts = [index + 1 for index, byte in enumerate(body) if byte == ord("\n")]

    for rows_before, cut in enumerate(cuts[:-1], start=1):
        if rows_before % 37 == 0:
            assert compare_block(body[cut:], earlier=body[:cut])
            assert compare_block(body[cut:], CsvLimits(max_rows=rows_before + 5), earlier=body[:cut])
    assert not compare_block(body[cuts[5] : cuts[9] - 4], earlier=body[: cuts[5]])


@contextmanager
def field_size_limit(limit: int):
    before = csv.field_size_limit(limit)
    try:
        yield
    finally:
        csv.field_size_limit(before)


def test_a_cell_past_the_csv_modules_field_limit_is_refused_as_the_python_path_refuses_it():
    data = rows('1,A,"https://a.example/1,https://a.example/2"', "2,Long name,https://a.example/3")

    with field_size_limit(20):
        assert compare_block(data)
        assert read_file(csv_bytes(*data.decode().splitlines()), CsvLimits(), True)[0] is NotPlain


@pytest.mark.parametrize("limits", [CsvLimits(), SMALL, TINY, CsvLimits(max_rows=2)])
def test_whole_files_read_the_same_with_and_without_the_scanner(limits):
    data = csv_bytes(
        *(f'{n},"Product {n}","https://a.example/{n}/front.jpg,https://a.example/{n}/side.jpg"' for n in range(1, 3000))
    )
    spaced = data.replace(b".jpg,https", b".jpg, https")

    for file in (data, spaced, data.replace(b"\n", b"\r\n"), data[:-1], data + b"\n"):
        assert read_file(file, limits, True) == read_file(file, limits, False)


GOOD_URLS = ["http://a.example", "https://a.example/x.jpg", "HTTP://A-B.EXAMPLE:8080/x?y=1#z", "https://a"]
GOOD_URLS += ["https://a.example:0", "https://a.example:65535/", "https://a.example:0008", "https://a-.example"]
GOOD_URLS += ["https://a.example/" + "u" * 30, "hTTps://1.2.3.4:443/?q=a;b&c#%20"]
ODD_URLS = ["https://a.example:65536/", "https://a.example:00000", "https://a.example-", "https://a.example/a b"]
ODD_URLS += ["https://a.example/w_1,h_2.jpg", 'https://a.example/"', "https://ü.example", "ftp://a.example", ""]
ODD_URLS += ["https://", "https://a.example:", "https://.example", "https://a.example:123456"]
GOOD_NAMES = ["A", "Shirt blue", '"Shirt, blue"', '"Q"', "x" * 8, "(colour 1)"]
ODD_NAMES = [" A", "A ", '""', '"A""B"', "A\tB", "Café", "x" * 9, "", '" Q"', 'A"']
GOOD_SERIALS = ["1", "2", "007", "999999999999999999"]
ODD_SERIALS = ["0", "000", "1234567890123456789", "", " 3", "-1"]


@st.composite
def blocks(draw) -> bytes:
    """Blocks of lines near the scanner's shapes: each piece common, or at a rate drawn per block one it must weigh."""
    odd_percent = draw(st.sampled_from([0, 0, 2, 5, 20]))

    def pick(good: list[str], odd: list[str]) -> str:
        return draw(st.sampled_from(odd if draw(st.integers(0, 99)) < odd_percent else good))

    lines = []
    for _ in range(draw(st.integers(1, 8))):
        if pick(["row"], ["blank"]) == "blank":
            lines.append(draw(st.sampled_from(["", ",,", " "])))
            continue
        urls = [pick(GOOD_URLS, ODD_URLS) for _ in range(draw(st.integers(1, 4)))]
        cell = urls[0] + "".join(pick([","], [", ", ",,", " ,"]) + url for url in urls[1:])
        if len(urls) > 1 or draw(st.booleans()):
            cell = f'"{cell}"'
        lines.append(f"{pick(GOOD_SERIALS, ODD_SERIALS)},{pick(GOOD_NAMES, ODD_NAMES)},{pick([cell], [cell + ','])}")
    ending = draw(st.sampled_from(["\n", "\r\n"]))
    data = "".join(line + pick([ending], ["\r", "\n\n"]) for line in lines).encode()
    if pick(["whole"], ["cut"]) == "cut":
        data = data[: draw(st.integers(0, len(data)))]
    return data


@settings(max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(blocks(), st.sampled_from([CsvLimits(), SMALL, TINY, CsvLimits(max_rows=3)]), st.sampled_from([None, ROW]))
def test_whatever_block_the_scanner_takes_it_reads_as_the_python_path(data, limits, earlier):
    earlier_block = rows(earlier) if earlier else None

    event("taken" if compare_block(data, limits, earlier_block) else "declined")


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(files(), st.sampled_from([CsvLimits(), SMALL]))
def test_any_generated_file_reads_the_same_with_and_without_the_scanner(data, limits):
    assert read_file(data, limits, True) == read_file(data, limits, False)


def test_without_the_compiled_module_imgopt_reads_plain_files_in_python():
    program = """
import hashlib, io, sys, uuid
sys.modules["imgopt.adapters.postgres._plain_copy"] = None  # as if it was never built
from imgopt.adapters.postgres.plain_copy import COMPILED, PlainCopy
from imgopt.domain.plain_csv import PlainCsv
plain = PlainCsv(io.BytesIO(sys.stdin.buffer.read()))
copy = b"".join(PlainCopy(uuid.UUID(sys.argv[1])).blocks(plain))
print(COMPILED, plain.product_count, plain.image_count, hashlib.sha256(copy).hexdigest())
"""
    data = csv_bytes(*(f'{n},P {n},"https://a.example/{n},https://b.example/{n}"' for n in range(1, 2000)))
    plain = PlainCsv(io.BytesIO(data))
    expected = b"".join(PlainCopy(REQUEST).blocks(plain))

    done = subprocess.run(
        [sys.executable, "-c", program, str(REQUEST)], input=data, capture_output=True, check=True, timeout=60
    )

    assert done.stdout.decode().split() == ["False", "1999", "3998", hashlib.sha256(expected).hexdigest()]
