"""The bulk reader against the row rules: whatever it reads, the rules read the same; the rest it leaves to them."""

import io

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from imgopt.adapters.postgres.plain_csv import BLOCK_BYTES, NotPlain, PlainBlock, PlainCsv
from imgopt.domain.product_csv import CsvLimits, CsvRejected, CsvTooLarge, ProductCsvReader, ProductRow
from tests.support import HEADER, csv_bytes

SMALL = CsvLimits(max_rows=4, max_urls_per_row=2, max_name_length=5, max_url_length=30)


def product_rows(block: PlainBlock) -> list[ProductRow]:
    return [
        ProductRow(line, serial, name.decode(), tuple(url.decode() for url in urls))
        for line, serial, name, urls in zip(*block, strict=True)
    ]


def plain_read(data: bytes, limits: CsvLimits = CsvLimits()) -> tuple[list[ProductRow], int, int, int]:
    """What a repository storing a plain file would store; NotPlain as it would refuse it."""
    plain = PlainCsv(io.BytesIO(data), limits)
    rows = [row for block in plain for row in product_rows(block)]
    if not plain.serials_increasing and len({row.serial for row in rows}) < len(rows):
        raise NotPlain
    return rows, plain.product_count, plain.image_count, plain.last_line


def rules_read(data: bytes, limits: CsvLimits = CsvLimits()) -> tuple[list[ProductRow], int, int, int]:
    reader = ProductCsvReader(io.BytesIO(data), limits)
    rows = list(reader)
    reader.raise_if_invalid()
    return rows, reader.product_count, reader.image_count, reader.last_line


def assert_agree(data: bytes, limits: CsvLimits = CsvLimits()) -> bool:
    """The plain reader agrees with the rules whenever it answers; True when it did."""
    try:
        plain = plain_read(data, limits)
    except NotPlain:
        return False
    except CsvTooLarge:
        with pytest.raises(CsvTooLarge):
            rules_read(data, limits)
        return True
    assert rules_read(data, limits) == plain
    return True


@pytest.mark.parametrize(
    "data",
    [
        csv_bytes('1,Shirt,"https://a.example/1.jpg,https://a.example/2.jpg"', "2,Pants,http://b.example/p.png"),
        csv_bytes('1,"Shirt blue","https://a.example/1.jpg"', '2,"B",https://a.example/2.jpg'),
        csv_bytes("007,Zero seven,HTTPS://A.EXAMPLE:8443/x?y=1#z", "8,Port,http://a.example:65535"),
        csv_bytes(
            "1,Café crème ☕,https://a.example/1.jpg", "2,名前,https://a.example/2.jpg", "3,a\u00a0b,http://x.example"
        ),
        csv_bytes("1,A,https://a.example/1", "", ",,", " , ", "2,B,https://a.example/2", ""),
        b"\xef\xbb\xbf" + csv_bytes("1,A,https://a.example/1").replace(b"\n", b"\r\n"),
        csv_bytes("3,C,https://a.example/3", "1,A,https://a.example/1", "2,B,https://a.example/2"),
        csv_bytes("1,A,https://a.example/1", "2,B,https://a.example/2")[:-1],
        csv_bytes('1,"' + "N" * 1000 + '",https://a.example/' + "u" * 2028),
        csv_bytes(
            *(
                f'{n},Product {n},"https://a.example/{n}/front.jpg,https://a.example/{n}/side.jpg"'
                for n in range(1, 20000)
            )
        ),
        csv_bytes('1,A,"' + ",".join(f"https://a.example/{'u' * 1000}/{n}" for n in range(100)) + '"'),
        csv_bytes(
            *(f'{n},P,"http://a.example/{n},http://b.example/{n}"' for n in range(1, 99)),
            '99,Q,"http://c,http://d,http://e"',
        ),
        csv_bytes(",,", '1,"A","http://a.example"', "2,B,http://b.example"),
    ],
    ids=[
        "original format",
        "quoted names",
        "zeros, case, ports",
        "non-ASCII names",
        "blank rows",
        "BOM and CRLF",
        "serials out of order",
        "no final newline",
        "longest name and URL",
        "many blocks",
        "the longest cell",
        "two URLs a row but the last",
        "an empty row first",
    ],
)
def test_plain_files_read_exactly_as_the_row_rules_read_them(data):
    assert assert_agree(data)


@pytest.mark.parametrize(
    "data",
    [
        b"",
        HEADER.encode(),
        b"S. No.,Product Name\n1,A\n",
        b"Serial,Name,Urls\n",
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
        b"\xff\xd8\xff\xe0" + bytes(range(256)) * 4,
        csv_bytes("1,A,https://x.example/a", '2,"B,https://x'),
        csv_bytes("1,A\x00\x01,https://x.example/a"),
        csv_bytes("1,Caf\xe9,https://x.example/a").replace("é".encode(), b"\xe9"),
        csv_bytes('1,"' + "x" * 200_000 + '",https://x.example/a'),
        csv_bytes('1,A,"' + ",".join(f"https://a.example/{'u' * 2000}/{n}" for n in range(70)) + '"'),
        csv_bytes('1,A,"' + ",".join(f"https://a.example/{'u' * 2000}/{n}" for n in range(140)) + '"'),
        csv_bytes("5,A,https://x.example/a", "6,B,https://x.example/b", "5,C,https://x.example/c"),
        csv_bytes("1,A,https://x.example/a", "1,B,https://x.example/b"),
        csv_bytes(*(f"{n},,https://x.example/a" for n in range(1, 251))),
        *(
            csv_bytes(row)
            for row in (
                "0,A,https://x.example/a",
                "00,A,https://x.example/a",
                "-3,A,https://x.example/a",
                "1.5,A,https://x.example/a",
                "1234567890123456789,A,https://x.example/a",
                "1,,https://x.example/a",
                "1,A,",
                "1,A,ftp://x.example/a",
                "1,A,javascript:alert(1)",
                "1,A,/relative/a.jpg",
                "1,A,http:///nohost",
                '1,A,"https://x.example/a b.jpg"',
                "1,A,https://x.example:99999/a",
                "1,A,https://x.example/a,https://y.example/b",
                "1,A",
                '1,A,"https://x.example/a,ftp://y.example/b"',
                "1,A,https://x.example/\x1b[31m",
            )
        ),
    ],
)
def test_files_the_row_rules_refuse_are_never_plain(data):
    with pytest.raises((CsvRejected, CsvTooLarge)):
        rules_read(data)

    with pytest.raises(NotPlain):
        plain_read(data)


@pytest.mark.parametrize(
    "row",
    [
        " 7 , Hat , https://h.example/x.jpg ",
        '1,"Shirt, blue",https://a.example/1',
        '1,A,"https://a.example/1.jpg, https://a.example/2.jpg"',
        '1,A,"https://cdn.example/w_100,h_50/a.jpg,https://cdn.example/b.jpg"',
        "1,Tab\tinside,https://a.example/1",
        '1,"TV 55"" screen",https://a.example/1',
        '1,"Two\nlines",https://a.example/1',
        "1,Tab\there,https://a.example/1",
        '1,A,"https://a.example/1,"',
        "1,A,https://[2001:db8::1]:8443/a",
        "1,A,https://bücher.example/ü.jpg",
        "1,A,http://user@a.example/",
        "1,A,http://a.example:08080/x",
        "1,\u3000Hat,https://a.example/1",
    ],
)
def test_valid_files_of_unusual_shape_are_left_to_the_row_rules(row):
    data = csv_bytes(row)

    assert rules_read(data)[0]
    with pytest.raises(NotPlain):
        plain_read(data)


def test_a_bad_row_blocks_away_stops_the_plain_read_after_earlier_blocks():
    rows = [f"{n},Product {n},https://a.example/{n}.jpg" for n in range(1, 20000)]
    data = csv_bytes(*rows, "5000,Product 5000,ftp://a.example/5000.jpg")
    plain = PlainCsv(io.BytesIO(data))
    blocks = []

    with pytest.raises(NotPlain):
        blocks.extend(plain)

    assert len(data) > 2 * BLOCK_BYTES
    assert len(blocks) >= 2 and blocks[0].lines[0] == 2
    assert all(later.lines[0] == earlier.lines[-1] + 1 for earlier, later in zip(blocks, blocks[1:], strict=False))


def test_serials_out_of_order_are_flagged_for_the_caller_to_compare():
    plain = PlainCsv(io.BytesIO(csv_bytes("2,A,https://a.example/1", "1,B,https://a.example/2")))

    list(plain)

    assert not plain.serials_increasing


def test_more_plain_rows_than_allowed_is_too_large_as_the_rules_say():
    data = csv_bytes(*(f"{n},P,https://x.example/{n}" for n in range(1, 12)))

    with pytest.raises(CsvTooLarge, match="more than 10 product rows"):
        plain_read(data, CsvLimits(max_rows=10))
    assert assert_agree(data, CsvLimits(max_rows=10))


GOOD_NAMES = ["Shirt", "Hat", '"Hat blue"', "Café", "名前", "a\u00a0b", "\u200bZero", "x" * 5, '"Q"']
ODD_NAMES = [" Hat", "Hat ", "\u00a0Hat", "Hat\u2003", "名\u3000", 'TV 55"', '"TV 55"" x"', '"Two\nlines"', "a\tb"]
ODD_NAMES += ['"Hat, blue"', '" Q"', "a,b"]
ODD_NAMES += ["a\x01b", "", '""', '" Q"', "x" * 6, "ééé", "é" * 5]
GOOD_URLS = ["https://a.example/1.jpg", "http://b.example", "HTTP://C.EXAMPLE/x?y=1#z", "http://d.example:8080/x"]
GOOD_URLS += ["https://e.example/x?u=http://f.example", "http://d.example:0", "http://d.example:65535/"]
ODD_URLS = ["http://d.example:65536/", "http://d.example:08080/", "ftp://g.example/a", "https://[::1]/a"]
ODD_URLS += ["https://bü.example/x", "http://user@h.example/", "https://i.example/a b", "https://-j.example/"]
ODD_URLS += ["https://k-.example/", 'https://l.example/"q', "javascript:alert(1)", "https://n.example/,", "x"]
ODD_URLS += ["https://m.example/" + "u" * 12, "", "https://cdn.example/w_1,h_2/a.jpg"]
SEPARATORS = [","]
ODD_SEPARATORS = [", ", " , ", "\t,", ",,", " ,,", ";"]
BLANK_ROWS = ["", ",,", " , ", ",,,", " "]
ODD_BLANK_ROWS = ['"",,', "\t,\x0c,"]


@st.composite
def files(draw) -> bytes:
    """Files near the plain shape: each piece plain, or, at a rate drawn per file, one of its odd neighbours."""
    odd_percent = draw(st.sampled_from([0, 0, 3, 10, 40]))

    def pick(good: list[str], odd: list[str]) -> str:
        return draw(st.sampled_from(odd if draw(st.integers(0, 99)) < odd_percent else good))

    lines, serial = [pick([HEADER.rstrip("\n")], ["\ufeff" + HEADER.rstrip("\n"), "S. No.,Product Name"])], 0
    for _ in range(draw(st.integers(0, 6))):
        if draw(st.integers(0, 5)) == 0:
            lines.append(pick(BLANK_ROWS, ODD_BLANK_ROWS))
            continue
        serial += draw(st.integers(1, 3))
        urls = [pick(GOOD_URLS, ODD_URLS) for _ in range(draw(st.integers(1, 3)))]
        cell = urls[0] + "".join(pick(SEPARATORS, ODD_SEPARATORS) + url for url in urls[1:])
        if len(urls) > 1 or pick(["", '"'], ['"']):
            cell = f'"{cell}"'
        serial_text = pick([str(serial)], ["0", "00", f"0{serial}", f" {serial}", f"{serial} ", "-1", "1.5", "", "1"])
        lines.append(",".join((serial_text, pick(GOOD_NAMES, ODD_NAMES), pick([cell], [cell + ",", "", cell[1:]]))))
    text = "".join(line + pick(["\n", "\r\n"], ["\r", "\n\n"]) for line in lines)
    data = (text.rstrip("\r\n") if draw(st.booleans()) else text).encode()
    if pick(["plain"], ["bytes"]) == "bytes":
        position = draw(st.integers(0, len(data)))
        data = data[:position] + draw(st.sampled_from([b"\xff", b"\xe9", b"\x00", b"\xc3"])) + data[position:]
    return data


@settings(max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(files(), st.sampled_from([CsvLimits(), SMALL]))
def test_whenever_a_generated_file_reads_as_plain_the_row_rules_read_the_same(data, limits):
    event("plain" if assert_agree(data, limits) else "left to the row rules")


@pytest.mark.parametrize("limits", [CsvLimits(max_urls_per_row=0), CsvLimits(max_name_length=0)])
def test_limits_no_row_can_meet_are_left_to_the_row_rules(limits):
    data = csv_bytes("1,A,https://a.example/1")

    with pytest.raises(CsvRejected):
        rules_read(data, limits)
    with pytest.raises(NotPlain):
        plain_read(data, limits)


def test_rows_of_more_urls_than_a_pattern_can_count_read_as_the_rules_read_them():
    limits = CsvLimits(max_urls_per_row=2000)
    data = csv_bytes(*(f'{n},P,"' + ",".join(f"http://a.example/{u}" for u in range(1200)) + '"' for n in (1, 2)))

    assert assert_agree(data, limits)
