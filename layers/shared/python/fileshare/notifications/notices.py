"""The notification service: domain events -> the recipient's in-app inbox and an email (SES).

Who is told what (``compose``, pure): the owner when an upload is ready or rejected, when one of
their public links was downloaded, when a file was deleted or expired, and when an archive is
ready or failed (``zip.ready``, ``archive.failed``); the grantee when a file was shared with them.
Other event types are not notifications and are acknowledged unread.

Exactly one inbox row and one email per event and recipient, with at-least-once delivery:

1. the inbox row is inserted with ``ON CONFLICT (user_id, event_id, type) DO NOTHING`` and
   committed on its own, so the in-app notification never waits on (or fails with) SES;
2. then, in a second transaction, ``email_sent_at`` is set *only if* it is NULL (an UPDATE, which
   locks the row), the email is sent while that lock is held, and the transaction commits; if the
   send fails, the rollback clears the claim.

- A redelivered event finds the row (no second row) and ``email_sent_at`` set (no second email).
- A crash or SES failure after step 1 leaves ``email_sent_at`` NULL; the record fails, Kafka
  redelivers it, and the retry sends the email: none is lost.
- Two deliveries of one event at once (a consumer-group rebalance) serialize on the row lock; the
  second sees ``email_sent_at`` set and sends nothing.
- The one window left is a crash after SES accepted the email but before the commit of step 2:
  the retry sends it again. SES has no idempotency key, so "at least once" is the honest promise
  for email; the window is one commit long. The inbox row itself is exactly once.

Ready uploads are the exception: a burst of them is one notice and one email
(``fileshare.notice_bursts``), unless ``UPLOAD_NOTICE_WINDOW_SECONDS`` is 0.

Emails are limited (``_send_email_once``): link downloads are digested per link and period, and
every recipient has a daily cap; the inbox is not limited. A deployment without a sender (its
``emailSender`` is empty, so ``EMAIL_SENDER`` is set but empty) sends no email at all: the inbox
still gets every notice, and each one logs that it went to the inbox only.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from fileshare import cursor
from fileshare.adapters import aws
from fileshare.adapters.aws import public_base_url
from fileshare.adapters.observability import logger, metrics
from fileshare.config import settings
from fileshare.consumers import wanted_event
from fileshare.db import email_limits as limits_db
from fileshare.db import users as users_db
from fileshare.db.connection import transaction
from fileshare.errors import NotFound
from fileshare.event_types import ENVELOPE_VERSION, Event, EventType
from fileshare.notifications import bursts as notice_bursts
from fileshare.notifications import rows as sql
from fileshare.notifications.models import NotificationList, NotificationOut

NOTIFYING: frozenset[str] = frozenset({
    EventType.FILE_READY, EventType.FILE_REJECTED, EventType.SHARE_CREATED, EventType.LINK_DOWNLOADED,
    EventType.FILE_DELETED, EventType.FILE_EXPIRED, EventType.ZIP_READY, EventType.ARCHIVE_FAILED,
    EventType.FILE_VERSION_ADDED, EventType.FILE_VERSION_REJECTED,
})
SUPPORTED_VERSIONS = frozenset({ENVELOPE_VERSION})

# Rejection reasons (``processing`` / ``media``) in words; anything else is shown de-underscored.
_REASONS = {
    "quota_exceeded": "it would exceed your storage quota",
    "size_mismatch": "the uploaded size did not match the declared size",
    "content_type_mismatch": "its content does not match the declared type",
    "content_type_not_allowed": "this type of file is not allowed",
    "upload_abandoned": "its bytes did not arrive in time",
}


# Why an archive job failed (``archives.worker``), in words; the detail (which file) is on the job.
_ARCHIVE_REASONS = {
    "source_missing": "a file's bytes were gone",
    "source_changed": "a file changed while it was being zipped",
    "source_unavailable": "a file or folder was no longer available to you",
    "too_large": "the folder grew past the archive limits",
    "storage_error": "storage failed; please try again",
    "worker_lost": "the job stopped; please try again",
}


class Outcome(StrEnum):
    DELIVERED = "delivered"  # a new inbox row (and its email)
    DUPLICATE = "duplicate"  # the row existed; the email was sent now only if it had not been
    IGNORED = "ignored"  # not a notification, or nobody to tell


@dataclass(frozen=True)
class Notice:
    """What one recipient is told about one event."""

    user_id: str
    type: str
    file_id: uuid.UUID
    subject: str
    message: str
    url: str | None = None  # where the email points (default: the app)


def _name(event: Event) -> str:
    name = event.data.get("name")
    return f"“{name}”" if isinstance(name, str) and name.strip() else "a file"


def _rejection(event: Event) -> str:
    """Why an upload or a version was rejected, in words."""
    reason = str(event.data.get("reason") or "it could not be verified")
    return _REASONS.get(reason, reason.replace("_", " "))


def compose(event: Event, *, actor_email: str | None = None) -> Notice | None:
    """The notice ``event`` gives rise to (None: not a notification). ``actor_email`` is the
    owner's address, used to say who shared a file."""
    name = _name(event)
    recipient = event.owner_id
    kind = event.type
    if kind == EventType.FILE_READY:
        subject = f"Your upload {name} is ready"
        message = f"{subject}."
    elif kind == EventType.FILE_REJECTED:
        subject = f"Your upload {name} was rejected"
        message = f"{subject}: {_rejection(event)}."
    elif kind == EventType.FILE_VERSION_ADDED:
        subject = f"A new version of {name} is ready"
        message = f"{subject} and is now the current one."
    elif kind == EventType.FILE_VERSION_REJECTED:
        subject = f"Your new version {name} was rejected"
        message = f"{subject}: {_rejection(event)}. The file keeps its current version."
    elif kind == EventType.SHARE_CREATED:
        grantee = event.data.get("recipient_id") or event.data.get("grantee_id")
        if not isinstance(grantee, str) or not grantee or grantee == event.owner_id:
            return None
        recipient = grantee
        who = actor_email or "Someone"
        subject = f"{who} shared {name} with you"
        message = f"{who} shared {name} with you."
    elif kind == EventType.LINK_DOWNLOADED:
        downloads = event.data.get("downloads")
        count = f" ({downloads} download{'s' if downloads != 1 else ''} so far)" if isinstance(
            downloads, int) else ""
        subject = f"Your link to {name} was downloaded"
        message = f"Your public link to {name} was downloaded{count}."
    elif kind == EventType.FILE_DELETED:
        subject = f"{name[0].upper()}{name[1:]} was deleted"
        why = (" after its time in the trash ran out" if event.data.get("reason") == "trash_retention"
               else "")
        message = f"{name[0].upper()}{name[1:]} was permanently deleted{why}."
    elif kind == EventType.FILE_EXPIRED:
        subject = f"{name[0].upper()}{name[1:]} expired"
        message = f"{name[0].upper()}{name[1:]} reached its expiry date and was deleted."
    elif kind == EventType.ZIP_READY:  # file_id is the archive's id
        files = event.data.get("files")
        count = f" of {files} file{'s' if files != 1 else ''}" if isinstance(files, int) else ""
        subject = f"Your archive {name} is ready"
        message = f"Your archive {name}{count} is ready to download."
        return Notice(user_id=recipient, type=kind.value, file_id=event.file_id, subject=subject,
                      message=message, url=f"{public_base_url()}/?archive={event.file_id}")
    elif kind == EventType.ARCHIVE_FAILED:  # file_id is the archive's id
        reason = str(event.data.get("reason") or "")
        subject = f"Your archive {name} could not be made"
        message = f"Your archive {name} could not be made: {_ARCHIVE_REASONS.get(reason, 'an error')}."
        return Notice(user_id=recipient, type=kind.value, file_id=event.file_id, subject=subject,
                      message=message, url=f"{public_base_url()}/?archive={event.file_id}")
    else:
        return None
    return Notice(user_id=recipient, type=kind.value, file_id=event.file_id, subject=subject, message=message)


def parse(raw: bytes | str) -> Event | None:
    """The event in a record's value; None for a type this service does not notify about.

    The type is checked before the envelope is validated, so an event type added later (unknown to
    this code's ``EventType``) is acknowledged, not dead-lettered.
    """
    return wanted_event(raw, NOTIFYING, SUPPORTED_VERSIONS)


def handle(raw: bytes | str) -> Outcome:
    """Deliver the notification for one record (idempotent). Raises to have the record retried."""
    event = parse(raw)
    if event is None:
        return Outcome.IGNORED
    return deliver(event)


def deliver(event: Event) -> Outcome:
    if event.type in notice_bursts.COALESCED and notice_bursts.on():
        return _deliver_to_burst(event)
    with transaction() as conn:
        actor = users_db.email_of(conn, event.owner_id) if event.type == EventType.SHARE_CREATED else None
        notice = compose(event, actor_email=actor)
        if notice is None:
            return Outcome.IGNORED
        email = users_db.email_of(conn, notice.user_id)
        if email is None:  # the account is gone (its inbox went with it): nobody to tell
            logger.info("notification recipient has no account", extra={"event_id": str(event.id)})
            return Outcome.IGNORED
        inserted = sql.insert(conn, notification_id=uuid.uuid4(), user_id=notice.user_id, event_id=event.id,
                              type=notice.type, file_id=notice.file_id, message=notice.message)
    sent = _send_email_once(notice, event, email)
    outcome = Outcome.DELIVERED if inserted is not None else Outcome.DUPLICATE
    metrics.add_metric(name="NotificationsDelivered" if inserted else "NotificationDuplicates",
                       unit="Count", value=1)
    if sent:
        metrics.add_metric(name="NotificationEmailsSent", unit="Count", value=1)
    logger.info("notification handled", extra={"event_id": str(event.id), "type": notice.type,
                                               "outcome": outcome.value, "email_sent": sent})
    return outcome


def _deliver_to_burst(event: Event) -> Outcome:
    """A ready upload joins its owner's burst: one notice for the burst, one email when it closes
    (``fileshare.notice_bursts``)."""
    with transaction() as conn:
        email = users_db.email_of(conn, event.owner_id)
    if email is None:
        logger.info("notification recipient has no account", extra={"event_id": str(event.id)})
        return Outcome.IGNORED
    counted = notice_bursts.deliver(event, event.owner_id)
    outcome = Outcome.DELIVERED if counted else Outcome.DUPLICATE
    metrics.add_metric(name="NotificationsDelivered" if counted else "NotificationDuplicates",
                       unit="Count", value=1)
    logger.info("notification handled", extra={"event_id": str(event.id), "type": event.type.value,
                                               "outcome": outcome.value, "email_sent": False,
                                               "burst": True})
    return outcome


def _send_email_once(notice: Notice, event: Event, address: str) -> bool:
    """Send the row's email unless it was sent; True if sent now. Raises when SES fails.

    Two limits apply inside the same transaction as the claim (a failed send rolls all back):
    a link's downloads are digested (``_digest``: at most one email per link and
    ``LINK_EMAIL_DIGEST_SECONDS``, the count of downloads in between in it; the sweeper mails what
    is left once the period is over) and each recipient gets at most ``EMAIL_DAILY_CAP`` emails per
    UTC day. What a limit holds back is still in the inbox; the claim is kept, so no retry sends it.
    """
    if not settings().email_sender:
        logger.info("no email sender configured (the stage's emailSender): the notification is in the "
                    "in-app inbox only", extra={"event_id": str(event.id)})
        return False
    with transaction() as conn:
        if sql.claim_email(conn, notice.user_id, event.id, notice.type) is None:
            return False  # sent before (or being sent by a concurrent delivery, which we waited for)
        if event.type == EventType.LINK_DOWNLOADED:
            digested = _digest(conn, notice, event)
            if digested is None:
                return False
            notice = digested
        if not within_daily_cap(conn, notice.user_id):
            return False
        send_email(address, notice)
    return True


def _digest(conn: Any, notice: Notice, event: Event) -> Notice | None:
    """Count this download into its link's digest; the notice to email now, or None (not yet)."""
    link_id = event.data.get("link_id")
    if not isinstance(link_id, str | uuid.UUID):
        return notice  # an event without its link (older producer): nothing to digest it by
    downloads = event.data.get("downloads")
    digest = limits_db.add_download(
        conn, link_id=uuid.UUID(str(link_id)), user_id=notice.user_id, file_id=notice.file_id,
        name=str(event.data.get("name") or ""), total=downloads if isinstance(downloads, int) else 0,
        period_s=settings().link_email_digest_s)
    if not digest.due:
        metrics.add_metric(name="LinkDownloadEmailsDigested", unit="Count", value=1)
        return None
    limits_db.mark_sent(conn, digest.link_id)
    return digest_notice(digest)


def digest_notice(digest: limits_db.DigestRow) -> Notice:
    """The email for a link's downloads since its last one (``pending`` of them)."""
    name = f"“{digest.name}”" if digest.name.strip() else "a file"
    count, total = digest.pending, digest.total
    times = "" if count == 1 else f" {count} times"
    since = " since the last email" if count > 1 and digest.last_sent_at is not None else ""
    so_far = f" ({total} download{'s' if total != 1 else ''} so far)" if total else ""
    return Notice(user_id=digest.user_id, type=EventType.LINK_DOWNLOADED.value, file_id=digest.file_id,
                  subject=f"Your link to {name} was downloaded",
                  message=f"Your public link to {name} was downloaded{times}{since}{so_far}.")


def within_daily_cap(conn: Any, user_id: str) -> bool:
    """Count one email to ``user_id`` today; False (and nothing counted) over ``EMAIL_DAILY_CAP``."""
    cap = settings().email_daily_cap
    if cap <= 0:
        return True
    if limits_db.count_email(conn, user_id, cap) is None:
        logger.info("daily email cap reached; the notification stays in the inbox only",
                    extra={"cap": cap})
        metrics.add_metric(name="EmailsCapped", unit="Count", value=1)
        return False
    return True


def send_email(address: str, notice: Notice) -> None:
    aws.client("ses").send_email(
        Source=settings().email_sender,
        Destination={"ToAddresses": [address]},
        Message={
            "Subject": {"Data": f"Fileshare: {notice.subject}", "Charset": "UTF-8"},
            "Body": {"Text": {"Data": _email_body(notice), "Charset": "UTF-8"}},
        },
    )


def flush_digests(limit: int = 100) -> int:
    """Email the downloads left in digests whose period is over (the sweeper, every few minutes);
    how many emails went out. Rows are locked and skipped by concurrent runs."""
    if not settings().email_sender:  # no sender configured: nothing was digested either
        return 0
    sent = 0
    with transaction() as conn:
        for digest in limits_db.due(conn, settings().link_email_digest_s, limit):
            limits_db.mark_sent(conn, digest.link_id)
            address = users_db.email_of(conn, digest.user_id)
            if address is None or not within_daily_cap(conn, digest.user_id):
                continue
            send_email(address, digest_notice(digest))
            sent += 1
    if sent:
        metrics.add_metric(name="LinkDigestEmailsSent", unit="Count", value=sent)
    return sent


def _email_body(notice: Notice) -> str:
    return (f"{notice.message}\n\nOpen Fileshare: {notice.url or public_base_url()}\n\n"
            "You receive this email because of activity on your Fileshare account.\n")


# ---- the inbox API ------------------------------------------------------------------------------

def _out(row: sql.NotificationRow) -> NotificationOut:
    return NotificationOut(notification_id=row.notification_id, type=row.type, file_id=row.file_id,
                           message=row.message, created_at=row.created_at, read=row.read_at is not None)


def list_notifications(user_id: str, *, unread_only: bool, limit: int, after: str | None) -> NotificationList:
    """The caller's notifications, newest first (only unread ones when ``unread_only``)."""
    position = cursor.decode_time_id(after) if after else None
    with transaction() as conn:
        rows = sql.page(conn, user_id, unread_only=unread_only, limit=limit + 1, after=position)
    page = rows[:limit]
    next_cursor = (cursor.encode([page[-1].created_at.isoformat(), str(page[-1].notification_id)])
                   if len(rows) > limit else None)
    return NotificationList(items=[_out(r) for r in page], next_cursor=next_cursor)


def mark_read(user_id: str, notification_id: uuid.UUID) -> NotificationOut:
    """Mark one of the caller's notifications read (idempotent); someone else's is a 404."""
    with transaction() as conn:
        row = sql.mark_read(conn, user_id, notification_id)
    if row is None:
        raise NotFound("notification not found", code="notification_not_found")
    return _out(row)
