"""The processor's time budget for the largest object, as arithmetic the tests check
(``tests/infra/test_sizing.py``) against the declaration and the processor's own read limits.

What one upload message costs at worst. With S3 verifying integrity itself (``x-amz-checksum-sha256``
signed into the presigned requests, S3's checksum recorded), the processor reads an object's first
``media.SNIFF_BYTES`` only, except images up to ``processing.THUMBNAIL_MAX_SOURCE_BYTES``, which it reads
whole to thumbnail. So the largest allowed object (5 GiB) costs a range GET of 8 KB, and the worst
message is a 50 MiB image:

* read:      50 MiB / 20 MiB/s (a conservative single GET stream into a 1 GB Lambda; 50-90 MB/s is
  typical)                                                                    =  2.5 s
* thumbnail: 40 Mpx (the decoder's pixel cap) PNG, 1.5 s measured on one full core, x1.7 for the
  0.58 vCPU of 1024 MB, x2 margin                                             ~  5.1 s
* the rest:  thumbnail PUT, one transaction, index (~1 s), publish: the producer gives up after its
  10 s delivery timeout and leaves the event to the outbox relay               ~ 11 s
  -> 19 s per message (rounded up).

A batch must fit the timeout even when every message in it is a worst case, or the invocation times
out and *every* message of the batch comes back (and counts a receive towards the DLQ): timeout >=
batch x 19 s + 15 s (cold start: layer import, first connections). Batch 5 -> 110 s; the timeout is
120 s. SQS visibility timeout = 6 x the function timeout (AWS guidance, room for retries under
throttling) = 720 s. The partial batch response (``batchItemFailures``) returns only the messages
that failed. Batch 10 would need 205 s and a 20-minute visibility timeout for no real gain: uploads
arrive one notification per object.

Had the processor still streamed and hashed every object, 5 GiB at 20 MiB/s would be 256 s for one
message: beyond any batch-friendly timeout, which is why integrity moved to S3.
"""

from __future__ import annotations

import math

MIB = 1024 * 1024
S3_READ_BYTES_PER_S = 20 * MIB  # conservative single-stream GET from Lambda at 1 GB memory
THUMBNAIL_S = 1.5 * 1.7 * 2  # measured 40 Mpx PNG decode + thumbnail on a full core, scaled, margin
OTHER_STEPS_S = 1.0 + 10.0  # thumbnail PUT, transaction, index; publish bounded by the 10 s delivery timeout
COLD_START_S = 15  # layer import and first connections, once per invocation at most
VISIBILITY_FACTOR = 6  # AWS guidance: queue visibility timeout >= 6 x function timeout


def worst_message_s(max_read_bytes: int) -> int:
    """Seconds one message may take when the processor reads at most ``max_read_bytes`` of it."""
    return math.ceil(max_read_bytes / S3_READ_BYTES_PER_S + THUMBNAIL_S + OTHER_STEPS_S)


def timeout_for(batch_size: int, max_read_bytes: int) -> int:
    """The smallest function timeout in which a whole batch of worst-case messages finishes."""
    return batch_size * worst_message_s(max_read_bytes) + COLD_START_S
