"""Which addresses outbound requests may reach: public ones only, whatever the spelling."""

import ipaddress
import socket
from collections.abc import Callable

from imgopt.adapters.net.failures import http_url
from imgopt.application.ports import UnsafeUrl, UrlPolicy

Resolver = Callable[..., list]
AddressPolicy = Callable[[str], str | None]

_NAT64 = ipaddress.ip_network("64:ff9b::/96")
# Cloud instance metadata services: refused even when private networks are allowed for development.
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a) for a in ("169.254.169.254", "fd00:ec2::254", "100.100.100.200", "169.254.170.2")
)
_SIX_TO_FOUR = ipaddress.ip_network("2002::/16")


def address_problem(address: str) -> str | None:
    """Why `address` (a literal IP) must not be reached, or None when it is public."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if ip.version == 6:
        embedded = _embedded_ipv4(ip)
        if embedded is not None:
            problem = address_problem(str(embedded))
            return f"{problem} inside the IPv6 address {ip}" if problem else None
    for label, flagged in (
        ("loopback", ip.is_loopback),
        ("unspecified", ip.is_unspecified),
        ("link-local", ip.is_link_local),
        ("multicast", ip.is_multicast),
        ("private", ip.is_private),
        ("reserved", ip.is_reserved),
    ):
        if flagged:
            article = "an" if label[0] in "aeiou" else "a"
            return f"{ip} is {article} {label} address"
    if not ip.is_global:
        return f"{ip} is not a public address"
    return None


def metadata_problem(address: str) -> str | None:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    embedded = _embedded_ipv4(ip) if ip.version == 6 else None
    if ip in METADATA_ADDRESSES or embedded in METADATA_ADDRESSES:
        return f"{ip} is a cloud metadata address"
    return None


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped:
        return ip.ipv4_mapped
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip in _SIX_TO_FOUR:
        return ip.sixtofour
    if ip.teredo:
        return ip.teredo[1]
    return None


class UnresolvedHost(UnsafeUrl):
    """The host name did not resolve; `temporary` when the resolver asked to be tried again later."""

    def __init__(self, message: str, temporary: bool = False) -> None:
        super().__init__(message)
        self.temporary = temporary


class AddressGuard:
    """Resolves a host once and vouches for every address it gets, so the caller connects to those."""

    def __init__(
        self,
        allow_private_networks: bool = False,
        resolver: Resolver = socket.getaddrinfo,
        policy: AddressPolicy = address_problem,
    ) -> None:
        """`policy` says why an address is refused (None: public); metadata addresses are refused regardless."""
        self.allow_private_networks = allow_private_networks
        self._resolve = resolver
        self._policy = policy

    def resolve(self, host: str, port: int) -> list[tuple[int, str]]:
        """(family, address) pairs to connect to; UnsafeUrl if any is not public or none exists."""
        if "%" in host:  # an IPv6 zone id (fe80::1%25eth0) names an interface of this machine, never a public host
            raise UnsafeUrl(f"the host {host!r} names a network interface (an IPv6 zone id); give a public address")
        # getaddrinfo also decodes the odd spellings (2130706433, 0x7f.1, 0177.0.0.1, 127.1),
        # so the check sees the address the connection would really go to.
        try:
            infos = self._resolve(host.rstrip("."), port, type=socket.SOCK_STREAM)
        except socket.gaierror as exc:
            temporary = exc.errno == socket.EAI_AGAIN
            raise UnresolvedHost(f"the host {host!r} does not resolve ({exc.strerror})", temporary) from None
        except UnicodeError as exc:
            raise UnresolvedHost(f"the host {host!r} does not resolve ({exc})") from None
        addresses = list(dict.fromkeys((family, sockaddr[0]) for family, _, _, _, sockaddr in infos))
        if not addresses:
            raise UnresolvedHost(f"the host {host!r} does not resolve")
        for _, address in addresses:
            problem = metadata_problem(address) or (None if self.allow_private_networks else self._policy(address))
            if problem:
                raise UnsafeUrl(f"the host {host!r} is not public: {problem}")
        return addresses


class GuardedUrlPolicy(UrlPolicy):
    def __init__(self, guard: AddressGuard) -> None:
        self._guard = guard

    def check(self, url: str) -> str | None:
        target = http_url(url)
        try:
            self._guard.resolve(target.host, target.port or (443 if target.scheme == "https" else 80))
        except UnresolvedHost as exc:
            return exc.message
        return None
