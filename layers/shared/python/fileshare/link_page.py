"""The small HTML page a browser gets for ``GET /s/{token}``: file name, size, type and a Download
button. Loading it counts nothing; the button asks ``GET /s/{token}?download=1`` (JSON) for the
presigned URL, which is what counts a download.

A link with a password first shows a locked page: a password field and nothing about the file.
Its script asks the page again with the password (``X-Link-Password``, checked and limited as a
download's) and swaps in the unlocked card, the same as an open link's; the download then sends
the same password.

Self-contained (inline style and script, no external asset), so it works wherever the API runs.
Every value is HTML-escaped; the token goes into the script as JSON.
"""

from __future__ import annotations

import json
from html import escape
from typing import Any


def human_size(size: int) -> str:
    value, units = float(size), ("B", "KB", "MB", "GB", "TB")
    unit = 0
    while value >= 1024 and unit < len(units) - 1:
        value, unit = value / 1024, unit + 1
    return f"{int(value)} {units[unit]}" if unit == 0 else f"{value:.1f} {units[unit]}"


_STYLE = """
body{margin:0;font-family:system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;color:#1d2430;
background:#f5f7fa;line-height:1.45}main{max-width:32rem;margin:2rem auto;padding:0 1rem}
.card{background:#fff;border:1px solid #d3d9e2;border-radius:8px;padding:1.25rem 1.5rem}
h1{font-size:1.2rem;margin:0 0 .25rem;overflow-wrap:anywhere}p{margin:.25rem 0}.muted{color:#525b69}
label{display:block;font-weight:600;margin:.75rem 0 .25rem}input{width:100%;padding:.45rem .6rem;
border:1px solid #8a94a3;border-radius:6px;font:inherit}button{margin-top:1rem;font:inherit;
padding:.5rem 1.2rem;border-radius:6px;border:1px solid #1a56b0;background:#1a56b0;color:#fff;cursor:pointer}
:focus-visible{outline:3px solid #5b8fe6;outline-offset:2px}.error{color:#a8231b}
"""

_SCRIPT = """
(() => {
  const token = %s;
  const link = `/s/${encodeURIComponent(token)}`;
  let password = null;
  const say = (text, kind = "muted") => {
    const status = document.getElementById("status");
    status.className = kind;
    status.textContent = text;
  };
  async function unlock() {
    const given = document.getElementById("link-password").value;
    say("Checking the password...");
    try {
      const response = await fetch(link, { headers: { Accept: "text/html", "X-Link-Password": given } });
      const page = new DOMParser().parseFromString(await response.text(), "text/html");
      if (!response.ok) {
        const reason = page.getElementById("status");
        throw new Error((reason && reason.textContent) || `HTTP ${response.status}`);
      }
      password = given;
      document.title = page.title;
      document.querySelector(".card").replaceWith(page.querySelector(".card"));
      document.querySelector("#download-form button").focus();
    } catch (err) {
      say(`Cannot unlock: ${err.message}`, "error");
    }
  }
  async function download() {
    say("Preparing the download...");
    const headers = { Accept: "application/json" };
    if (password !== null) headers["X-Link-Password"] = password;
    try {
      const response = await fetch(`${link}?download=1`, { headers });
      const body = await response.json().catch(() => ({}));
      if (!response.ok) throw new Error((body.error && body.error.message) || `HTTP ${response.status}`);
      say("Your download has started.");
      window.location.assign(body.url);
    } catch (err) {
      say(`Cannot download: ${err.message}`, "error");
    }
  }
  document.addEventListener("submit", (ev) => {
    ev.preventDefault();
    if (ev.target.id === "unlock-form") unlock(); else download();
  });
})();
"""


def _document(title: str, body: str, script: str = "") -> str:
    return (
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        "<meta name=\"robots\" content=\"noindex\"><link rel=\"icon\" href=\"data:,\">"
        f"<title>{escape(title)} - Fileshare</title><style>{_STYLE}</style></head>"
        f"<body><main><div class=\"card\">{body}</div></main>{script}</body></html>"
    )


def _script(token: str) -> str:
    return "<script>" + _SCRIPT % json.dumps(token).replace("<", "\\u003c") + "</script>"


def render(token: str, link: dict[str, Any]) -> str:
    """The page for a link that can be opened (``link`` as ``links.peek_link`` returns it): the
    locked page while it is ``locked``, else the file's name, size, type and a Download button."""
    if link.get("locked"):
        return render_locked(token)
    name = escape(str(link["name"]))
    facts = f"{escape(human_size(int(link['size'])))} &middot; {escape(str(link['content_type']))}"
    button = "<button type=\"submit\">Download</button>"
    body = (f"<p class=\"muted\">Shared with you on Fileshare</p><h1>{name}</h1>"
            f"<p class=\"muted\">{facts}</p>"
            f"<form id=\"download-form\" novalidate>{button}</form>"
            "<p id=\"status\" role=\"status\" aria-live=\"polite\"></p>")
    return _document(str(link["name"]), body, _script(token))


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
    return _document("Protected link", body, _script(token))


def render_refusal(message: str) -> str:
    """The page for a link that cannot be opened (unknown, revoked, expired, used up)."""
    return _document("Link unavailable", f"<h1>This link is not available</h1><p>{escape(message)}</p>")
