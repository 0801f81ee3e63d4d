"""Coarse client information for the activity feed: who opened a public link, without saying who.

What is kept of a request is the browser family, the OS family, the source network (IPv4 /24,
IPv6 /48: the truncation web analytics use to anonymize an address) and, where the edge sets
``CloudFront-Viewer-Country``, the country. Never the address itself, the full user agent, the
link's token or its password.

A dozen substring rules instead of a user-agent database (ua-parser's ~1 000 regular expressions):
only families are wanted, and the public-link function is kept quick to start.
"""

from __future__ import annotations

import ipaddress
import re

MAX_USER_AGENT_CHARS = 512  # what is looked at; the rest of an absurdly long header is ignored

# (family, markers): the first family with a marker in the user agent wins, so the order matters:
# Edge and Opera say "Chrome" too, Chrome says "Safari", and every browser says "Mozilla".
_BROWSERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("curl", ("curl/",)),
    ("Wget", ("wget/",)),
    ("Python", ("python-requests/", "python-urllib/", "python-httpx/", "aiohttp/")),
    ("Bot", ("bot", "spider", "crawler", "slurp")),
    ("Edge", ("edg/", "edga/", "edgios/", "edge/")),
    ("Opera", ("opr/", "opera")),
    ("Samsung Internet", ("samsungbrowser/",)),
    ("Firefox", ("firefox/", "fxios/")),
    ("Chrome", ("chrome/", "crios/", "chromium/")),
    ("Safari", ("safari/",)),
)
_SYSTEMS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("iOS", ("iphone", "ipad", "ipod")),
    ("Android", ("android",)),
    ("Windows", ("windows",)),
    ("ChromeOS", ("cros ",)),
    ("macOS", ("macintosh", "mac os x")),
    ("Linux", ("linux", "x11")),
)
_COUNTRY = re.compile(r"^[A-Z]{2}$")


def _family(user_agent: str, table: tuple[tuple[str, tuple[str, ...]], ...]) -> str:
    text = user_agent[:MAX_USER_AGENT_CHARS].lower()
    return next((name for name, markers in table if any(m in text for m in markers)), "Other")


def browser_family(user_agent: str | None) -> str:
    return _family(user_agent or "", _BROWSERS)


def os_family(user_agent: str | None) -> str:
    return _family(user_agent or "", _SYSTEMS)


def network(source_ip: str | None) -> str | None:
    """The address's network, ``203.0.113.0/24`` or ``2001:db8:1::/48``; None if it is no address."""
    try:
        address = ipaddress.ip_address((source_ip or "").strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    prefix = 24 if address.version == 4 else 48
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))


def country(header: str | None) -> str | None:
    """A two-letter country code from the edge's header (CloudFront-Viewer-Country), else None."""
    value = (header or "").strip().upper()
    return value if _COUNTRY.match(value) else None


def coarse(user_agent: str | None, source_ip: str | None, viewer_country: str | None = None
           ) -> dict[str, str]:
    """What the ``link.downloaded`` event says about the client (see the module's docstring)."""
    info = {"browser": browser_family(user_agent), "os": os_family(user_agent)}
    net = network(source_ip)
    if net:
        info["network"] = net
    where = country(viewer_country)
    if where:
        info["country"] = where
    return info
