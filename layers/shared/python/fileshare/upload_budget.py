"""What a user may start per hour, counted as work rather than requests: files and bytes of the
uploads they start (``POST /files`` one file, ``POST /files/batch`` each entry whose input passed
its checks; one refused later by the quota or its folder still counts: the budget is charged before
the user's row is locked, so the lock is never held for a Redis round trip).

A batch of 500 files is one request against ``RATE_LIMIT_PER_MINUTE`` and 500 files against
``UPLOAD_FILES_PER_HOUR``, so a page dropping a thousand files is never refused while a client
starting a million is. Both counters are one hour long, starting with the first upload the user
starts in them (``fileshare.adapters.limiter``, one pipeline). A charge that does not fit counts nothing
(the counter script takes only what fits, and the one that fitted is refunded), and is refused
with 429 ``upload_budget_exceeded`` and ``Retry-After`` (seconds until the counter that refused
ends). Redis being unavailable leaves the budget open, as the request limits are. 0 turns a
budget off.
"""

from __future__ import annotations

from fileshare.adapters import limiter
from fileshare.adapters.observability import metrics
from fileshare.config import settings
from fileshare.errors import RateLimited

WINDOW_S = 3600
FILES_KEY_PREFIX = "fs:ub:v1:files:"
BYTES_KEY_PREFIX = "fs:ub:v1:bytes:"


def charge(user_id: str, *, files: int, size: int) -> None:
    """Count ``files`` uploads of ``size`` bytes in all; raise ``RateLimited`` when they do not fit
    (and then nothing is counted)."""
    if files <= 0:
        return
    config = settings()
    wanted = [(limiter.Limit(f"{prefix}{user_id}", limit, WINDOW_S), cost)
              for prefix, limit, cost in ((FILES_KEY_PREFIX, config.upload_files_per_hour, files),
                                          (BYTES_KEY_PREFIX, config.upload_bytes_per_hour, size))
              if limit > 0]
    if not wanted:
        return
    decisions = limiter.take_costs(wanted)
    if decisions is None or all(d.allowed for d in decisions):
        return
    pairs = list(zip(wanted, decisions, strict=True))
    limiter.refund([(limit.key, cost) for (limit, cost), d in pairs if d.allowed])
    refused = [(taken, d) for taken, d in pairs if not d.allowed]
    (limit, cost), decision = refused[0]
    what = "files" if limit.key.startswith(FILES_KEY_PREFIX) else "bytes"
    metrics.add_metric(name="UploadBudgetExceeded", unit="Count", value=1)
    wait = max(d.retry_after_s for _, d in refused)
    raise RateLimited(f"starting these uploads ({cost} {what}) would pass your hourly budget of "
                      f"{limit.limit} {what} ({decision.remaining} left); retry in {wait} s",
                      retry_after_s=wait, code="upload_budget_exceeded")
