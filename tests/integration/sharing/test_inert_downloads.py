"""Active content (markup, script, SVG, XML) is served inert: every presigned download of it, the
owner's, a share's, a public link's and a version's, answers ``application/octet-stream`` as an
attachment, so a browser never renders it on the bucket's origin. Checked on LocalStack S3's real
response headers, fetched through the presigned URL."""

from __future__ import annotations

import pytest
import requests

from tests.integration.conftest import User
from tests.support.sharing import World

ACTIVE = b"<html><body><script>alert(document.domain)</script></body></html>\n"


def fetched(url: str) -> requests.Response:
    reply = requests.get(url, timeout=30)
    assert reply.status_code == 200, reply.text
    return reply


def download_urls(world: World, owner: User, viewer: User, file_id: str) -> dict[str, str]:
    """The presigned URL of each way to download ``file_id``."""
    world.register(viewer)
    world.share(owner, file_id, viewer)
    token = str(world.link(owner, file_id)["url"]).rsplit("/s/", 1)[1]
    urls = {}
    for who, user, path in (("owner", owner, f"/files/{file_id}/download"),
                            ("share", viewer, f"/files/{file_id}/download"),
                            ("version", owner, f"/files/{file_id}/versions/{file_id}/download")):
        reply = world.files(user)("GET", path)
        assert reply.status == 200, (who, reply.body)
        urls[who] = str(reply.body["url"])
    opened = world.open(token)
    assert opened.status == 302, opened.body
    urls["public link"] = str(opened.headers["location"])
    return urls


@pytest.mark.parametrize("content_type", [
    "text/html", "application/xhtml+xml", "image/svg+xml", "text/xml", "application/xml",
    "text/javascript", "application/javascript",
])
def test_active_content_downloads_as_an_inert_attachment(
        world: World, alice: User, bob: User, content_type: str) -> None:
    file_id = world.ready_file(alice, name="page.html", data=ACTIVE, index=False,
                               content_type=content_type)
    for way, url in download_urls(world, alice, bob, file_id).items():
        reply = fetched(url)
        assert reply.headers["Content-Type"] == "application/octet-stream", (way, reply.headers)
        assert reply.headers["Content-Disposition"].startswith("attachment;"), (way, reply.headers)
        assert reply.content == ACTIVE, way


def test_passive_content_keeps_its_type(world: World, alice: User, bob: User) -> None:
    file_id = world.ready_file(alice, index=False, content_type="text/plain")
    for way, url in download_urls(world, alice, bob, file_id).items():
        reply = fetched(url)
        assert reply.headers["Content-Type"] == "text/plain", (way, reply.headers)
        assert reply.headers["Content-Disposition"].startswith("attachment;"), (way, reply.headers)
