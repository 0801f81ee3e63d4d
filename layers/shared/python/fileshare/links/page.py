"""The small HTML page a browser gets for ``GET /s/{token}``: file name, size, type and a Download
button. Loading it counts nothing; the button asks ``GET /s/{token}?download=1`` (JSON) for the
presigned URL, which is what counts a download.

A link with a password first shows a locked page: a password field and nothing about the file.
Its script asks the page again with the password (``X-Link-Password``, checked and limited as a
download's) and swaps in the unlocked card, the same as an open link's; the download then sends
the same password.

Its style and script are static files of the web app (``web/link-page.css``, ``web/link-page.js``),
served from the same origin as ``/s/*`` (CloudFront in AWS, the gateway locally), so the page runs
under the CSP of ``infra/web_headers.py`` with no inline code; the script reads the token from the
URL. Every value is HTML-escaped.
"""

from __future__ import annotations

from html import escape
from typing import Any


def human_size(size: int) -> str:
    value, units = float(size), ("B", "KB", "MB", "GB", "TB")
    unit = 0
    while value >= 1024 and unit < len(units) - 1:
        value, unit = value / 1024, unit + 1
    return f"{int(value)} {units[unit]}" if unit == 0 else f"{value:.1f} {units[unit]}"


#: Served with the web app (web/), so the page needs no inline style or script under the CSP.
STYLESHEET = "/link-page.css"
SCRIPT = "/link-page.js"


def _document(title: str, body: str, script: str = "") -> str:
    return (
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        "<meta name=\"robots\" content=\"noindex\">"
        "<link rel=\"icon\" href=\"/favicon.svg\" type=\"image/svg+xml\">"
        f"<title>{escape(title)} - Fileshare</title><link rel=\"stylesheet\" href=\"{STYLESHEET}\"></head>"
        f"<body><main><div class=\"card\">{body}</div></main>{script}</body></html>"
    )


_SCRIPT_TAG = f"<script src=\"{SCRIPT}\"></script>"


def render(token: str, link: dict[str, Any]) -> str:
    """The page for a link that can be opened (``link`` as ``links.peek_link`` returns it): the
    locked page while it is ``locked``, else the file's name, size, type and a Download button.
    (``token`` is not written into the page: its script reads it from the URL.)"""
    if link.get("locked"):
        return render_locked(token)
    name = escape(str(link["name"]))
    facts = f"{escape(human_size(int(link['size'])))} &middot; {escape(str(link['content_type']))}"
    button = "<button type=\"submit\">Download</button>"
    body = (f"<p class=\"muted\">Shared with you on Fileshare</p><h1>{name}</h1>"
            f"<p class=\"muted\">{facts}</p>"
            f"<form id=\"download-form\" novalidate>{button}</form>"
            "<p id=\"status\" role=\"status\" aria-live=\"polite\"></p>")
    return _document(str(link["name"]), body, _SCRIPT_TAG)


_UNLOCK_FIELD = ("<label for=\"link-password\">Password</label>"
                 "<input id=\"link-password\" name=\"password\" type=\"password\" required"
                 " autocomplete=\"current-password\">")


def render_locked(token: str, error: str | None = None) -> str:
    """The page of a link with a password before the right one is given: a password field and
    nothing about the file (no name, size or type); ``error`` says why the last try failed."""
    status = (f"<p id=\"status\" role=\"status\" aria-live=\"polite\" class=\"error\">{escape(error)}</p>"
              if error else "<p id=\"status\" role=\"status\" aria-live=\"polite\"></p>")
    body = ("<p class=\"muted\">Shared with you on Fileshare</p>"
            "<h1>This link is protected by a password</h1>"
            "<p class=\"muted\">Enter the password you were given to see the file.</p>"
            f"<form id=\"unlock-form\" novalidate>{_UNLOCK_FIELD}"
            f"<button type=\"submit\">Unlock</button></form>{status}")
    return _document("Protected link", body, _SCRIPT_TAG)


def render_refusal(message: str) -> str:
    """The page for a link that cannot be opened (unknown, revoked, expired, used up)."""
    return _document("Link unavailable", f"<h1>This link is not available</h1><p>{escape(message)}</p>")
