"""Public links: create, list, revoke (owner only), and open (anyone holding the token).

- The token is ``secrets.token_urlsafe(32)`` (256 random bits) and only its SHA-256 is stored: a
  leaked database gives no usable link. A key-less hash is enough because the token is random and
  long; nothing can be guessed from it offline.
- A password is stored as scrypt with a random salt and compared in constant time. Every password
  attempt takes a unit from per-link and per-source-IP budgets (``fileshare.adapters.limiter``: one atomic
  Lua script each, windows start at the first attempt) BEFORE scrypt runs, and a right password
  gives its unit back; at the limit the link answers 429 with Retry-After, even to the right
  password, and computes nothing. Redis down: no limit, logged (availability over a second factor
  the token already precedes).
- Opening a link: unknown, revoked, or its file not ready (pending, rejected, trashed) -> 404;
  expired or used up -> 410; password missing or wrong -> 401; else one download is taken with a
  single atomic UPDATE (exactly ``max_downloads`` succeed under any concurrency), the
  ``link.downloaded`` event is written in the same transaction, and the answer is a redirect to a
  presigned GET valid for one minute.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from fileshare import event_types, events
from fileshare.access import require_owner
from fileshare.adapters import limiter, storage
from fileshare.adapters.aws import public_base_url
from fileshare.adapters.observability import metrics
from fileshare.config import settings
from fileshare.db import files as files_db
from fileshare.db import shares as shares_db
from fileshare.db.connection import transaction
from fileshare.db.files import FileRow
from fileshare.errors import Conflict, Gone, NotFound, RateLimited, Unauthorized
from fileshare.lifecycle import FileStatus
from fileshare.links import rows as links_db
from fileshare.links.models import LinkIn, LinkList, LinkOut

TOKEN_BYTES = 32
_TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_-]{43}$")  # token_urlsafe(32): 43 URL-safe base64 characters
DOWNLOAD_URL_TTL_S = 60
# scrypt cost: 16 MiB of memory and ~50 ms per hash (RFC 7914's interactive-login parameters).
SCRYPT_N, SCRYPT_R, SCRYPT_P, SCRYPT_DKLEN, SALT_BYTES = 2**14, 8, 1, 32, 16
PASSWORD_ATTEMPTS_PER_LINK = 5  # wrong passwords per link per window
PASSWORD_ATTEMPTS_PER_IP = 20  # wrong passwords from one source IP (any link) per window
ATTEMPT_WINDOW_S = 60
_ATTEMPTS_PREFIX = "fs:linkpw:v1:"


# ---- tokens and passwords (pure; unit tested) -------------------------------------------------

def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def is_token_shaped(token: str) -> bool:
    """Could this be one of our tokens? Anything else is a 404 without a database query."""
    return bool(_TOKEN_SHAPE.match(token))


def link_url(token: str) -> str:
    return f"{public_base_url()}/s/{token}"


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def hash_password(password: str) -> str:
    """``scrypt$N$r$p$salt$hash``: the parameters travel with the hash, so they can be raised later."""
    salt = secrets.token_bytes(SALT_BYTES)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P,
                            dklen=SCRYPT_DKLEN)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str) -> bool:
    """Constant-time comparison against a ``hash_password`` value; False for anything malformed."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = _unb64(digest)
        actual = hashlib.scrypt(password.encode(), salt=_unb64(salt), n=int(n), r=int(r), p=int(p),
                                dklen=len(expected))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


# ---- password attempt limits (Redis) ----------------------------------------------------------

def _attempt_limits(link_id: uuid.UUID, source_ip: str | None) -> list[limiter.Limit]:
    limits = [limiter.Limit(f"{_ATTEMPTS_PREFIX}link:{link_id}", PASSWORD_ATTEMPTS_PER_LINK,
                            ATTEMPT_WINDOW_S)]
    if source_ip:
        limits.append(limiter.Limit(f"{_ATTEMPTS_PREFIX}ip:{source_ip}", PASSWORD_ATTEMPTS_PER_IP,
                                    ATTEMPT_WINDOW_S))
    return limits


def take_attempt(link_id: uuid.UUID, source_ip: str | None) -> list[str]:
    """Count one password attempt against the link and the source IP BEFORE any scrypt runs (one
    atomic script per counter): at the limit, 429 ``too_many_attempts``, and no hash is computed,
    so N parallel guesses cost at most the limit's worth of scrypt. Returns the keys to give the
    attempt back to if the password turns out right (only failures use up the budget).
    Redis unavailable: no limit (the link still needs its token and its password), logged."""
    limits = _attempt_limits(link_id, source_ip)
    decisions = limiter.take_all(limits)
    if decisions is None:
        metrics.add_metric(name="RateLimitUnavailable", unit="Count", value=1)
        return []
    refused = [d for d in decisions if not d.allowed]
    if refused:
        metrics.add_metric(name="LinkPasswordRateLimited", unit="Count", value=1)
        raise RateLimited("too many wrong passwords; try again later", code="too_many_attempts",
                          retry_after_s=max(d.retry_after_s for d in refused))
    return [limit.key for limit in limits]


# ---- owner use cases ----------------------------------------------------------------------------

def _link_out(row: links_db.LinkRow, url: str | None = None) -> LinkOut:
    return LinkOut(link_id=row.link_id, file_id=row.file_id, url=url, expires_at=row.expires_at,
                   max_downloads=row.max_downloads, downloads=row.downloads,
                   has_password=row.password_hash is not None, created_at=row.created_at)


def _link_event(event_type: event_types.EventType, file_row: FileRow, link: links_db.LinkRow,
                **data: Any) -> event_types.Event:
    return event_types.Event(type=event_type, file_id=file_row.file_id, owner_id=file_row.owner_id,
                        data={"link_id": link.link_id, "name": file_row.name, **data})


def create_link(user_id: str, file_id: uuid.UUID, request: LinkIn) -> LinkOut:
    password_hash = hash_password(request.password) if request.password is not None else None
    token = new_token()
    expires_at = (datetime.now(UTC) + timedelta(seconds=request.expires_in)
                  if request.expires_in is not None else None)
    with transaction() as conn:
        row = require_owner(conn, shares_db.lock_file(conn, file_id), user_id)
        if row.status not in (FileStatus.PENDING, FileStatus.READY):
            raise Conflict(f"a {row['status']} file cannot be shared by link", code=f"file_{row['status']}")
        cap = settings().max_links_per_file
        if links_db.count_active(conn, file_id) >= cap:  # counted under the file's row lock
            raise Conflict(f"a file can have at most {cap} links; revoke one first", code="too_many_links")
        link = links_db.insert(conn, link_id=uuid.uuid4(), file_id=file_id, token_hash=token_hash(token),
                               password_hash=password_hash, expires_at=expires_at,
                               max_downloads=request.max_downloads)
        events.record(conn, _link_event(event_types.EventType.LINK_CREATED, row, link, expires_at=expires_at,
                                        max_downloads=request.max_downloads,
                                        has_password=password_hash is not None))
    events.publish_now([file_id])
    metrics.add_metric(name="LinksCreated", unit="Count", value=1)
    return _link_out(link, link_url(token))


def list_links(user_id: str, file_id: uuid.UUID) -> LinkList:
    with transaction() as conn:
        require_owner(conn, files_db.get(conn, file_id), user_id)
        rows = links_db.list_active(conn, file_id)
    return LinkList(items=[_link_out(r) for r in rows])


def revoke_link(user_id: str, link_id: uuid.UUID) -> None:
    """Revoke at once (the next open is a 404). A link of a file that is not yours is a 404; a viewer
    of the file gets 403 ``owner_only`` (checked before the link's state); a revoked link is a 404."""
    with transaction() as conn:
        link = links_db.get_with_owner(conn, link_id)
        if link is None:
            raise NotFound("link not found", code="link_not_found")
        try:
            row = require_owner(conn, shares_db.lock_file(conn, link.file_id), user_id)
        except NotFound:
            raise NotFound("link not found", code="link_not_found") from None
        revoked = links_db.revoke(conn, link_id)
        if revoked is None:
            raise NotFound("link not found", code="link_not_found")
        events.record(conn, _link_event(event_types.EventType.LINK_REVOKED, row, revoked))
    events.publish_now([link.file_id])
    metrics.add_metric(name="LinksRevoked", unit="Count", value=1)


# ---- opening a link (public) ---------------------------------------------------------------------

def _refusal(link: links_db.LinkWithFile | None, now: datetime) -> Exception | None:
    """Why this link cannot be opened now, as the error to raise; None if it can."""
    if link is None or link.revoked_at is not None or link.status != FileStatus.READY:
        return NotFound("link not found", code="link_not_found")
    if link.expires_at is not None and link.expires_at <= now:
        return Gone("this link has expired", code="link_expired")
    if link.max_downloads is not None and link.downloads >= link.max_downloads:
        return Gone("this link has reached its download limit", code="link_used_up")
    return None


def _usable_link(token: str) -> links_db.LinkWithFile:
    """The link row behind ``token`` if it may be opened now; raises the refusal otherwise."""
    if not is_token_shaped(token):
        raise NotFound("link not found", code="link_not_found")
    with transaction() as conn:
        link = links_db.by_token_hash(conn, token_hash(token))
    refusal = _refusal(link, datetime.now(UTC))
    if refusal is not None or link is None:
        raise refusal or NotFound("link not found", code="link_not_found")
    return link


def _check_password(link: links_db.LinkWithFile, password: str | None, source_ip: str | None) -> None:
    """Raise unless ``password`` is the link's (counted and limited per link and source IP)."""
    if link.password_hash is None:
        return
    if not password:
        raise Unauthorized("this link needs a password (X-Link-Password)", code="password_required")
    attempt = take_attempt(link.link_id, source_ip)
    if not verify_password(password, link.password_hash):
        metrics.add_metric(name="LinkWrongPassword", unit="Count", value=1)
        raise Unauthorized("wrong password", code="wrong_password")
    limiter.give_back(attempt)


def peek_link(token: str, password: str | None = None, source_ip: str | None = None) -> dict[str, Any]:
    """What the link page shows, counting no download: the file's name, size and type, and whether
    a password is needed. A link with a password is ``locked`` (nothing about the file) until the
    right ``password`` comes with the request; a wrong one is checked and limited as for a download
    (401 ``wrong_password``, 429). Raises the refusal, as ``open_link``."""
    link = _usable_link(token)
    has_password = link.password_hash is not None
    if has_password and not password:
        return {"has_password": True, "locked": True}
    _check_password(link, password, source_ip)
    return {"name": link.name, "size": link.size, "content_type": link.content_type,
            "has_password": has_password, "locked": False}


def open_link(token: str, password: str | None, source_ip: str | None,
              client: dict[str, str] | None = None) -> str:
    """The presigned download URL behind ``token``, counting one download; raises the refusal.
    ``client`` (``fileshare.links.clientinfo.coarse``) goes into the ``link.downloaded`` event as is."""
    link = _usable_link(token)
    link_id = link.link_id
    _check_password(link, password, source_ip)
    with transaction() as conn:
        file_row = shares_db.lock_file(conn, link.file_id)  # per-file order of outbox events
        downloads = links_db.count_download(conn, link_id)
        if downloads is None or file_row is None:  # lost a race: revoked, expired or used up meanwhile
            current = links_db.by_token_hash(conn, link.token_hash)
            raise _refusal(current, datetime.now(UTC)) or Gone("this link has reached its download limit",
                                                               code="link_used_up")
        events.record(conn, _link_event(event_types.EventType.LINK_DOWNLOADED, file_row, link,
                                        downloads=downloads, recipient_id=file_row.owner_id,
                                        **({"client": client} if client else {})))
    events.publish_now([link.file_id])
    metrics.add_metric(name="LinkDownloads", unit="Count", value=1)
    return storage.presigned_get(link.s3_key, download_name=link.name,
                                 content_type=link.content_type, expires_in=DOWNLOAD_URL_TTL_S)
