"""Origins: the servers images are downloaded from, each treated as someone's server."""

import re

# The authority of an http(s) URL without its user info: `host[:port]`, lower-cased by `origin_of`.
# Python's `re` and PostgreSQL's regular expressions read it alike, so the claim (which skips the
# images of an origin that asked to be left alone) and the fetcher (which leases a slot of one)
# name an origin the same way.
ORIGIN_PATTERN = r"^[A-Za-z][A-Za-z0-9+.-]*://(?:[^/?#@]*@)?([^/?#]*)"
_ORIGIN = re.compile(ORIGIN_PATTERN)


def origin_of(url: str) -> str:
    """The origin `url` is downloaded from: `host[:port]`, lower-case; '' for a URL without one."""
    match = _ORIGIN.match(url)
    return match.group(1).lower() if match else ""
