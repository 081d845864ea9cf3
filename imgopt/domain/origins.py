"""Origins: the servers images are downloaded from, each treated as someone's server."""

import re
from dataclasses import dataclass

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


@dataclass(frozen=True, slots=True)
class OriginLimits:
    """How many downloads at once each origin gets from every worker together.

    `default` for any origin, or an operator's override for some: `host` (any port), `host:port`, or
    `*.domain` (every host under it, not the domain itself). An exact `host:port` wins over `host`,
    which wins over the longest `*.domain` that matches.
    """

    default: int = 4
    overrides: tuple[tuple[str, int], ...] = ()

    @classmethod
    def parse(cls, default: int, text: str) -> "OriginLimits":
        """From `host=N` entries separated by commas, e.g. `cdn.shopify.com=32, *.cloudfront.net=16`."""
        overrides = []
        for entry in filter(None, (part.strip() for part in text.split(","))):
            pattern, equals, count = (piece.strip() for piece in entry.partition("="))
            if not equals or not _PATTERN.fullmatch(pattern):
                raise ValueError(f"{entry!r} is not host=N, host:port=N or *.domain=N")
            if not count.isdigit() or not 0 < int(count) <= MAX_ORIGIN_CONCURRENCY:
                raise ValueError(f"{entry!r}: N must be 1 to {MAX_ORIGIN_CONCURRENCY}")
            overrides.append((pattern.lower(), int(count)))
        return cls(default, tuple(overrides))

    def of(self, origin: str) -> int:
        """The downloads at once `origin` (`host[:port]`, as `origin_of` gives it) may have."""
        host = origin.rsplit(":", 1)[0] if not origin.endswith("]") else origin
        exact = dict(self.overrides)
        for name in (origin, host):
            if name in exact:
                return exact[name]
        domains = [(len(p), n) for p, n in self.overrides if p.startswith("*.") and host.endswith(p[1:])]
        return max(domains)[1] if domains else self.default


MAX_ORIGIN_CONCURRENCY = 1000
# A host name or bracketed IPv6 literal, with an optional port, or `*.` and a domain.
_PATTERN = re.compile(r"(\*\.)?([a-z0-9-]+(\.[a-z0-9-]+)*|\[[0-9a-f:.]+\])(:[0-9]{1,5})?", re.IGNORECASE)
