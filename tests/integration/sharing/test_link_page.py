"""The public link page (functions/public_link) against the real PostgreSQL, Redis and S3.

A browser (``Accept: text/html``) opening ``/s/{token}`` gets a page that counts nothing (a chat
app's link preview must not use up a download); its button asks ``?download=1`` as JSON, which
counts one; every other caller keeps the 302.
"""

from __future__ import annotations

from typing import Any

import pytest
import requests

from tests.integration.conftest import User
from tests.support.apigw import Reply, call, event
from tests.support.sharing import World

BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


def token_of(link: dict[str, Any]) -> str:
    return str(link["url"]).rsplit("/s/", 1)[1]


def downloads(world: World, link_id: str) -> int:
    row = world.db.execute("SELECT downloads FROM links WHERE link_id = %s", (link_id,)).fetchone()
    return int(row["downloads"])


def request(world: World, token: str, *, accept: str | None, download: bool = False,
            password: str | None = None, ip: str = "10.9.0.1") -> Reply:
    headers = {k: v for k, v in (("Accept", accept), ("X-Link-Password", password)) if v is not None}
    ev = event("GET", f"/s/{token}", resource="/s/{token}", path_parameters={"token": token},
               headers=headers, query={"download": "1"} if download else None)
    ev["requestContext"]["identity"]["sourceIp"] = ip
    return call(world.public_module.lambda_handler, ev)


def test_a_browser_gets_a_page_that_counts_nothing(world: World, alice: User, ip: str) -> None:
    file_id = world.ready_file(alice, index=False)
    link = world.link(alice, file_id, max_downloads=1)
    token = token_of(link)
    # When a browser (or a link-preview bot) loads the page, three times
    for _ in range(3):
        page = request(world, token, accept=BROWSER_ACCEPT, ip=ip)
        # Then it is an HTML page with the file's name, its size and a Download button
        assert page.status == 200
        assert page.headers["content-type"].startswith("text/html")
        assert page.headers["cache-control"] == "no-store"
        html = str(page.body)
        assert "<h1>" in html and ">Download</button>" in html and 'type="password"' not in html
    # And the link's single download is still unused
    assert downloads(world, link["link_id"]) == 0
    assert [e["type"] for e in world.outbox(file_id)].count("link.downloaded") == 0

    # When the page's button asks for the download
    got = request(world, token, accept="application/json", download=True, ip=ip)
    # Then it gets the presigned URL as JSON, which serves the bytes, and that counted one download
    assert got.status == 200, got.body
    assert requests.get(got.body["url"], timeout=30).content
    assert downloads(world, link["link_id"]) == 1
    # And the used-up link's page says so (410), still counting nothing
    gone = request(world, token, accept=BROWSER_ACCEPT, ip=ip)
    assert gone.status == 410 and "not available" in str(gone.body)
    assert downloads(world, link["link_id"]) == 1


def test_a_password_link_shows_nothing_about_the_file_until_the_password_is_right(
        world: World, alice: User, ip: str) -> None:
    file_id = world.ready_file(alice, index=False)
    name = "<img src=x onerror=alert(1)> & co.txt"
    renamed = world.files(alice)("PATCH", f"/files/{file_id}", body={"name": name})
    assert renamed.status == 200, renamed.body
    escaped_name = "&lt;img src=x onerror=alert(1)&gt; &amp; co.txt"
    link = world.link(alice, file_id, password="open sesame")
    token = token_of(link)
    secrets_of_the_file = (escaped_name, "co.txt", "text/plain", "84 B", "Download</button>")

    # When a browser opens it without a password, or with a wrong one
    locked = request(world, token, accept=BROWSER_ACCEPT, ip=ip)
    wrong_page = request(world, token, accept=BROWSER_ACCEPT, password="nope", ip=ip)
    # Then it gets a password prompt and nothing about the file: no name, size or type
    assert locked.status == 200 and wrong_page.status == 401
    for page in (locked, wrong_page):
        html = str(page.body)
        assert page.headers["content-type"].startswith("text/html")
        assert 'type="password"' in html and ">Unlock</button>" in html
        assert "<title>Protected link - Fileshare</title>" in html
        for fact in secrets_of_the_file:
            assert fact not in html, fact
    assert "wrong password" in str(wrong_page.body)

    # When the page is asked again with the right password
    unlocked = request(world, token, accept=BROWSER_ACCEPT, password="open sesame", ip=ip)
    # Then it is the same page as an open link's (name escaped, size, type, Download button)
    assert unlocked.status == 200
    html = str(unlocked.body)
    assert "<img" not in html and f"<h1>{escaped_name}</h1>" in html
    assert "84 B &middot; text/plain" in html and ">Download</button>" in html
    assert 'type="password"' not in html
    open_link = world.link(alice, file_id)
    open_page = request(world, token_of(open_link), accept=BROWSER_ACCEPT, ip=ip)
    assert html.replace(token, "TOKEN") == str(open_page.body).replace(token_of(open_link), "TOKEN")
    # And the download needs the password too; viewing the page counted none
    assert downloads(world, link["link_id"]) == 0
    wrong = request(world, token, accept="application/json", download=True, password="nope", ip=ip)
    assert (wrong.status, wrong.error_code) == (401, "wrong_password")
    right = request(world, token, accept="application/json", download=True, password="open sesame",
                    ip=ip)
    assert right.status == 200 and "X-Amz-Signature=" in right.body["url"]
    assert downloads(world, link["link_id"]) == 1


def test_wrong_passwords_on_the_page_are_limited_like_downloads(world: World, alice: User, ip: str) -> None:
    from fileshare.links.links import PASSWORD_ATTEMPTS_PER_LINK

    file_id = world.ready_file(alice, index=False)
    token = token_of(world.link(alice, file_id, password="open sesame"))
    for _ in range(PASSWORD_ATTEMPTS_PER_LINK):
        assert request(world, token, accept=BROWSER_ACCEPT, password="nope", ip=ip).status == 401
    limited = request(world, token, accept=BROWSER_ACCEPT, password="open sesame", ip=ip)
    assert limited.status == 429 and int(limited.headers["retry-after"]) > 0
    html = str(limited.body)
    assert 'type="password"' in html and "shared notes.txt" not in html


@pytest.mark.parametrize("accept", [None, "application/json", "*/*"])
def test_api_clients_keep_the_redirect(world: World, alice: User, ip: str, accept: str | None) -> None:
    file_id = world.ready_file(alice, index=False)
    link = world.link(alice, file_id)
    reply = request(world, token_of(link), accept=accept, ip=ip)
    assert reply.status == 302 and "X-Amz-Signature=" in reply.headers["location"]
    forced = request(world, token_of(link), accept=BROWSER_ACCEPT, download=True, ip=ip)
    assert forced.status == 302  # a plain browser navigation to ?download=1 downloads at once
    assert downloads(world, link["link_id"]) == 2


def test_an_unknown_token_is_a_404_page_for_browsers(world: World, ip: str) -> None:
    page = request(world, "x" * 43, accept=BROWSER_ACCEPT, ip=ip)
    assert page.status == 404 and page.headers["content-type"].startswith("text/html")
    assert request(world, "x" * 43, accept=None, ip=ip).error_code == "link_not_found"
