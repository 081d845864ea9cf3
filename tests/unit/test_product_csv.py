import io

import pytest

from imgopt.domain.product_csv import (
    MAX_REPORTED_ERRORS,
    CsvLimits,
    CsvRejected,
    CsvTooLarge,
    ProductCsvReader,
    ProductRow,
    url_problem,
)
from tests.support import csv_bytes


def read(data: bytes, limits: CsvLimits = CsvLimits()) -> list[ProductRow]:
    reader = ProductCsvReader(io.BytesIO(data), limits)
    rows = list(reader)
    reader.raise_if_invalid()
    return rows


def problems(data: bytes, limits: CsvLimits = CsvLimits()) -> list[str]:
    with pytest.raises(CsvRejected) as caught:
        read(data, limits)
    return [str(error) for error in caught.value.errors]


def test_reads_the_originals_format():
    rows = read(
        csv_bytes('1,Shirt,"https://a.example/1.jpg,https://a.example/2.jpg"', "2,Pants,http://b.example/p.png")
    )

    assert rows == [
        ProductRow(2, 1, "Shirt", ("https://a.example/1.jpg", "https://a.example/2.jpg")),
        ProductRow(3, 2, "Pants", ("http://b.example/p.png",)),
    ]


def test_tolerates_a_byte_order_mark_spaces_and_windows_line_ends():
    data = "\ufeff S. No. , Product Name ,Input Image Urls \r\n 7 , Hat , https://h.example/x.jpg \r\n".encode()

    assert read(data) == [ProductRow(2, 7, "Hat", ("https://h.example/x.jpg",))]


def test_skips_blank_rows_and_keeps_physical_line_numbers():
    data = csv_bytes(
        "1,A,https://x.example/a", "", ",,", '2,"Two\nlines",https://x.example/b', "3,C,https://x.example/c"
    )

    assert [(row.line, row.serial) for row in read(data)] == [(2, 1), (5, 2), (7, 3)]


def test_commas_inside_a_url_stay_in_the_url():
    rows = read(csv_bytes('1,A,"https://cdn.example/w_100,h_50/a.jpg, https://cdn.example/b.jpg,"'))

    assert rows[0].urls == ("https://cdn.example/w_100,h_50/a.jpg", "https://cdn.example/b.jpg")


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        ("0,A,https://x.example/a", "line 2, column 'S. No.': must be a positive whole number, got '0'"),
        ("-3,A,https://x.example/a", "line 2, column 'S. No.': must be a positive whole number, got '-3'"),
        ("1.5,A,https://x.example/a", "line 2, column 'S. No.': must be a positive whole number, got '1.5'"),
        ("1,,https://x.example/a", "line 2, column 'Product Name': is empty"),
        ("1,A,", "line 2, column 'Input Image Urls': has no image URL"),
        ("1,A,ftp://x.example/a", "line 2, column 'Input Image Urls': only http and https URLs are allowed"),
        ("1,A,javascript:alert(1)", "line 2, column 'Input Image Urls': only http and https URLs are allowed"),
        ("1,A,/relative/a.jpg", "line 2, column 'Input Image Urls': only http and https URLs are allowed"),
        ("1,A,http:///nohost", "line 2, column 'Input Image Urls': URL has no host"),
        ('1,A,"https://x.example/a b.jpg"', "line 2, column 'Input Image Urls': URL contains spaces"),
        ("1,A,https://x.example:99999/a", "line 2, column 'Input Image Urls': not a valid URL"),
        ("1,A,https://x.example/a,https://y.example/b", "line 2: expected 3 cells, found 4; put all image URLs"),
        ("1,A", "line 2: expected 3 cells, found 2"),
    ],
)
def test_reports_what_is_wrong_and_where(row, expected):
    assert problems(csv_bytes(row))[0].startswith(expected)


def test_a_repeated_serial_names_the_line_that_used_it_first():
    data = csv_bytes("5,A,https://x.example/a", "6,B,https://x.example/b", "5,C,https://x.example/c")

    assert problems(data) == ["line 4, column 'S. No.': 5 is already used on line 2"]


def test_huge_serials_are_checked_for_repeats_too():
    data = csv_bytes("123456789012,A,https://x.example/a", "123456789012,B,https://x.example/b")

    assert problems(data) == ["line 3, column 'S. No.': 123456789012 is already used on line 2"]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"", "line 1: the file is empty"),
        (b"S. No.,Product Name,Input Image Urls\n", "line 2: the file has a header but no product rows"),
        (b"S. No.,Product Name\n1,A\n", "line 1: wrong header: missing 'Input Image Urls'"),
        (b"Serial,Name,Urls\n", "line 1: wrong header: missing 'S. No.', 'Product Name', 'Input Image Urls'"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "line 1: the file is not CSV text"),
        (
            b'S. No.,Product Name,Input Image Urls\n1,A,https://x.example/a\n2,"B,https://x\n',
            "line 3: a quoted cell is never closed",
        ),
        (
            b"S. No.,Product Name,Input Image Urls\n1,A\x00\x01,https://x.example/a\n",
            "line 2: the row contains control characters",
        ),
        (b"S. No.,Product Name,Input Image Urls\n1,Caf\xe9,https://x.example/a\n", "line 2: the row is not UTF-8 text"),
        (csv_bytes('1,"' + "x" * 200_000 + '",https://x.example/a'), "line 2: a cell is too large"),
    ],
)
def test_files_that_are_not_the_expected_csv_are_refused_with_the_line(data, expected):
    assert problems(data)[0].startswith(expected)


def test_bad_bytes_are_reported_on_their_own_line_even_deep_in_the_file():
    rows = [f"{n},Product {n},https://x.example/{n}.jpg" for n in range(1, 3000)]
    data = csv_bytes(*rows).replace(b"Product 2500,", b"Product \xff2500,")

    assert problems(data) == ["line 2501: the row is not UTF-8 text; save the file as 'CSV UTF-8'"]


def test_counts_every_error_but_reports_the_first_hundred():
    data = csv_bytes(*(f"{n},,https://x.example/a" for n in range(1, 251)))

    with pytest.raises(CsvRejected) as caught:
        read(data)

    assert caught.value.error_count == 250
    assert len(caught.value.errors) == MAX_REPORTED_ERRORS


def test_no_row_is_yielded_after_the_first_invalid_one():
    reader = ProductCsvReader(
        io.BytesIO(csv_bytes("1,A,https://x.example/a", "x,B,https://x.example/b", "3,C,https://x.example/c"))
    )

    assert [row.serial for row in reader] == [1]
    assert reader.error_count == 1


def test_more_rows_than_allowed_stops_the_read():
    data = csv_bytes(*(f"{n},P,https://x.example/{n}" for n in range(1, 12)))

    with pytest.raises(CsvTooLarge, match="more than 10 product rows"):
        read(data, CsvLimits(max_rows=10))


def test_per_row_limits_apply():
    limits = CsvLimits(max_urls_per_row=2, max_name_length=5, max_url_length=40)
    data = csv_bytes(
        '1,Toolong,"http://a.example/1,http://a.example/2,http://a.example/3"', "2,Ok,http://a.example/" + "x" * 40
    )

    assert problems(data, limits) == [
        "line 2, column 'Product Name': is longer than 5 characters",
        "line 2, column 'Input Image Urls': has 3 URLs; at most 2 are allowed",
        "line 3, column 'Input Image Urls': URL longer than 40 characters: 'http://a.example/xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx'",
    ]


def test_counts_products_and_images():
    reader = ProductCsvReader(
        io.BytesIO(csv_bytes('1,A,"http://a.example/1, http://a.example/2"', "2,B,http://a.example/3"))
    )
    list(reader)

    assert (reader.product_count, reader.image_count) == (2, 3)


@pytest.mark.parametrize(
    "url",
    [
        "http://a.example",
        "HTTPS://A.EXAMPLE/x?y=1#z",
        "https://[2001:db8::1]:8443/a",
        "https://bücher.example/ü.jpg",
        "http://user@a.example/",
    ],
)
def test_accepts_absolute_http_urls(url):
    assert url_problem(url) is None


def test_messages_never_echo_raw_control_characters():
    assert (
        url_problem("http://a.example/\x1b[31m")
        == "URL contains spaces or control characters: 'http://a.example/\\x1b[31m'"
    )
