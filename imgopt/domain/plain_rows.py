"""A plain row as one regular expression over bytes, built from the row rules' own patterns."""

import re
from functools import lru_cache

from imgopt.domain.product_csv import HEADER, PLAIN_URL_CHARACTERS, PLAIN_URL_PATTERN, URL_SCHEME_PATTERN, CsvLimits

HEADER_LINE = re.compile(rb"(?:\xef\xbb\xbf)?" + re.escape(",".join(HEADER).encode()) + rb"\r?\n")
split_spaced_list = re.compile(rb"[ \t]*,[ \t]*(?=" + URL_SCHEME_PATTERN.encode() + rb")").split

# Printable ASCII but the quote and the comma.
_URL_CHARACTER = r"[\x21\x23-\x2b\x2d-\x7e]"


@lru_cache
def row_grammar(limits: CsvLimits) -> re.Pattern[bytes]:
    """One line: a product row, in six groups (serial, quoted or bare name, a bare URL, a quoted list of
    URLs without commas or spaces, any other quoted list), or a blank row with every group empty."""
    url = PLAIN_URL_PATTERN.replace(f"[{PLAIN_URL_CHARACTERS}]*", f"{_URL_CHARACTER}*")
    # A comma inside a URL is one no scheme follows: the rule that splits a cell into URLs.
    url_with_commas = url.replace(
        f"{_URL_CHARACTER}*", rf"{_URL_CHARACTER}*(?:,(?![ \t]*{URL_SCHEME_PATTERN}){_URL_CHARACTER}+)*"
    )
    more = limits.max_urls_per_row - 1
    # Without spaces at either end; the non-ASCII spaces str.strip() removes are checked apart.
    quoted_name = rf"(?! )[^\x00-\x1f\x7f\"]{{1,{limits.max_name_length}}}(?<! )"
    bare_name = quoted_name.replace('\\"]', '\\",]')
    listed = rf"{url}(?:,{url}){{0,{more}}}"
    spaced = rf"{url_with_commas}(?:[ \t]*,[ \t]*{url_with_commas}){{0,{more}}}"
    product = rf"(?!0+,)([0-9]{{1,18}}),(?:\"({quoted_name})\"|({bare_name})),(?:({url})|\"({listed})\"|\"({spaced})\")"
    return re.compile(rf"(?m)^(?:{product}|[ \t]*(?:,[ \t]*)*)\r?\n".encode())
