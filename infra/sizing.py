"""The processor's time budget for the largest object, as arithmetic the tests check
(``tests/infra/test_sizing.py``) against the declaration and the processor's own read limits.

What one upload message costs at worst. S3 verifies integrity itself (``x-amz-checksum-sha256``
signed into the presigned requests, S3's checksum recorded), so the processor reads an object whole
only up to ``processing.FULL_READ_MAX_BYTES`` (256 MiB, hashed as it streams); a larger one (up to the
5 GiB maximum) costs a HEAD and a ranged GET of its first bytes. Images up to
``processing.THUMBNAIL_MAX_SOURCE_BYTES`` (50 MiB) are also thumbnailed. The worst message is the
costlier of the two cases, plus the steps every message has:

* a whole read:   256 MiB / 20 MiB/s (a conservative single GET stream into a 1 GB Lambda; 50-90
  MB/s is typical; SHA-256 keeps up with it)                                    = 12.8 s
* or an image:    50 MiB / 20 MiB/s (2.5 s) + its thumbnail: a 40 Mpx PNG (the decoder's pixel cap)
  took 1.5 s on one full core here, x1.7 for 1024 MB's 0.58 vCPU, x2 margin (5.1 s) =  7.6 s
* every message:  thumbnail PUT, one transaction, index (~1 s), publish: the producer gives up after
  its 10 s delivery timeout and leaves the event to the outbox relay            = 11 s
  -> 24 s per message (rounded up).

A batch must fit the timeout even when every message in it is a worst case, or the invocation times
out and *every* message of the batch comes back (and counts a receive towards the DLQ): timeout >=
batch x 24 s + 15 s (cold start: layer import, first connections). Batch 4 -> 111 s; the timeout is
120 s. SQS visibility timeout = 6 x the function timeout (AWS guidance, room for retries under
throttling) = 720 s. The partial batch response (``batchItemFailures``) returns only the messages
that failed. Batch 10 would need 255 s and a 25-minute visibility timeout for little gain: uploads
arrive one notification per object, and concurrency, not batch size, carries a burst.

Streaming a 5 GiB object at 20 MiB/s would take 256 s for one message: why big objects rely on S3's
checksum.
"""

from __future__ import annotations

import math

MIB = 1024 * 1024
S3_READ_BYTES_PER_S = 20 * MIB  # conservative single-stream GET from Lambda at 1 GB memory
THUMBNAIL_S = 1.5 * 1.7 * 2  # measured 40 Mpx PNG decode + thumbnail on a full core, scaled, margin
OTHER_STEPS_S = 1.0 + 10.0  # thumbnail PUT, transaction, index; publish bounded by the 10 s delivery timeout
COLD_START_S = 15  # layer import and first connections, once per invocation at most
VISIBILITY_FACTOR = 6  # AWS guidance: queue visibility timeout >= 6 x function timeout


def worst_message_s(full_read_bytes: int, thumbnail_source_bytes: int) -> int:
    """Seconds one message may take: a whole read of up to ``full_read_bytes``, or an image of up to
    ``thumbnail_source_bytes`` read and thumbnailed, whichever costs more; plus the common steps."""
    read_s = full_read_bytes / S3_READ_BYTES_PER_S
    image_s = thumbnail_source_bytes / S3_READ_BYTES_PER_S + THUMBNAIL_S
    return math.ceil(max(read_s, image_s) + OTHER_STEPS_S)


def timeout_for(batch_size: int, full_read_bytes: int, thumbnail_source_bytes: int) -> int:
    """The smallest function timeout in which a whole batch of worst-case messages finishes."""
    return batch_size * worst_message_s(full_read_bytes, thumbnail_source_bytes) + COLD_START_S
