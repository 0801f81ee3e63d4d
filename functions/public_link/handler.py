"""``GET /s/{token}``: open a public link (no login). A function of its own so it starts fast:
the shared resolver (with its request validation, as every function's) and the links domain only,
and S3 presigning on the first hit. Answers 302 to a short-lived presigned GET, or 401/404/410/429
as JSON errors.
"""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response

from fileshare import links
from fileshare.api import create_app, entry_point

app = create_app()


@app.get("/s/<token>", summary="Open a public link (no login; password in X-Link-Password)", tags=["links"],
         responses={302: {"description": "redirect to a presigned download valid for one minute"},
                    401: {"description": "password_required or wrong_password"},
                    404: {"description": "unknown or revoked link, or the file is not available"},
                    410: {"description": "link_expired or link_used_up"},
                    429: {"description": "too many wrong passwords (Retry-After)"}})
def open_link(token: str) -> Response[str]:
    event = app.current_event
    url = links.open_link(token, event.headers.get("x-link-password"),
                          event.request_context.identity.source_ip)
    return Response(status_code=302, headers={"Location": url, "Cache-Control": "no-store",
                                              "Referrer-Policy": "no-referrer"}, body="")


lambda_handler = entry_point(app)
