"""``GET /s/{token}``: open a public link (no login). A function of its own so it starts fast:
the shared resolver (with its request validation, as every function's) and the links domain only,
and S3 presigning on the first hit.

Who gets what:
- a browser (``Accept`` names ``text/html``) without ``download``: a small page (file name, size,
  type, a Download button); loading it counts nothing, so a chat app's link preview consumes no
  download. A link with a password shows only a password prompt until the request carries the
  right one (``X-Link-Password``; a wrong one is a 401 page, counted as a download's would be);
- ``?download=1`` with ``Accept: application/json`` (the page's button): ``200 {"url"}``, one download;
- every other caller (API clients, ``curl``, ``?download=1`` otherwise): ``302`` to a short-lived
  presigned GET, one download; refusals are 401/404/410/429 JSON errors.
"""

from __future__ import annotations

import json
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query

from fileshare.api import create_app, entry_point
from fileshare.config import settings
from fileshare.errors import DomainError, RateLimited, Unauthorized
from fileshare.links import clientinfo, links
from fileshare.links import page as link_page

app = create_app()
_NO_STORE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


@app.get("/s/<token>", summary="Open a public link (no login; password in X-Link-Password)", tags=["links"],
         description="A browser (Accept: text/html) without `download` gets an HTML page that counts "
                     "nothing. `download=1` with Accept: application/json answers 200 {\"url\"}; any other "
                     "request answers 302 to the presigned download. Both of those count one download.",
         responses={200: {"description": "the link page (text/html; a link with a password shows nothing "
                                         "about the file until X-Link-Password is right), or {url} for "
                                         "download=1 with JSON"},
                    302: {"description": "redirect to a presigned download valid for one minute"},
                    401: {"description": "password_required or wrong_password"},
                    404: {"description": "unknown or revoked link, or the file is not available"},
                    410: {"description": "link_expired or link_used_up"},
                    429: {"description": "too many wrong passwords (Retry-After)"}})
def open_link(token: str,
              download: Annotated[bool, Query(description="1: download now (counts one download)")] = False,
              ) -> Response[str]:
    event = app.current_event
    accept = (event.headers.get("accept") or "").lower()
    source_ip = event.request_context.identity.source_ip
    if not download and "text/html" in accept:
        try:
            page = link_page.render(token, links.peek_link(token, event.headers.get("x-link-password"),
                                                           source_ip))
            status, headers = 200, {}
        except (Unauthorized, RateLimited) as refusal:  # a wrong password: the locked page again
            page, status = link_page.render_locked(token, refusal.message), refusal.status
            headers = ({"Retry-After": str(refusal.retry_after_s)} if isinstance(refusal, RateLimited)
                       else {})
        except DomainError as refusal:
            page, status, headers = link_page.render_refusal(refusal.message), refusal.status, {}
        return Response(status_code=status, content_type="text/html; charset=utf-8", body=page,
                        headers={**_NO_STORE, "X-Robots-Tag": "noindex", **headers})
    country = event.headers.get("cloudfront-viewer-country") if settings().behind_cloudfront else None
    client = clientinfo.coarse(event.headers.get("user-agent"), source_ip, country)
    url = links.open_link(token, event.headers.get("x-link-password"), source_ip, client)
    if download and "application/json" in accept:
        return Response(status_code=200, content_type="application/json", body=json.dumps({"url": url}),
                        headers=_NO_STORE)
    return Response(status_code=302, headers={"Location": url, **_NO_STORE}, body="")


lambda_handler = entry_point(app)
