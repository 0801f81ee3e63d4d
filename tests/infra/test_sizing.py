"""The processor's timeout, batch size and the upload queue's visibility timeout fit the largest
message the processor can be handed (infra/sizing.py has the arithmetic)."""

from __future__ import annotations

from fileshare import processing
from fileshare.config import Settings
from infra import sizing
from infra.declaration import UPLOAD_QUEUE, SqsTrigger, by_name

from .conftest import Assembly
from .helpers import STAGES, resources, stack

LAMBDA_MAX_TIMEOUT_S = 900
# The most the processor reads of one object whole, and the largest image it thumbnails.
LIMITS = (processing.FULL_READ_MAX_BYTES, processing.THUMBNAIL_MAX_SOURCE_BYTES)


def processor_trigger() -> SqsTrigger:
    (trigger,) = [t for t in by_name("processor").triggers if isinstance(t, SqsTrigger)]
    assert trigger.queue == UPLOAD_QUEUE
    return trigger


def test_a_batch_of_worst_case_messages_fits_the_timeout() -> None:
    fn, trigger = by_name("processor"), processor_trigger()
    assert fn.timeout_s >= sizing.timeout_for(trigger.batch_size, *LIMITS), (
        f"{trigger.batch_size} messages of {sizing.worst_message_s(*LIMITS)} s do not fit "
        f"{fn.timeout_s} s: one slow message would time out the whole batch"
    )
    assert fn.timeout_s <= LAMBDA_MAX_TIMEOUT_S


def test_reading_the_largest_object_whole_would_not_fit_a_lambda() -> None:
    # Why integrity is S3's job: streaming a maximum-size object through the processor cannot fit.
    largest = Settings().max_upload_bytes
    assert sizing.worst_message_s(largest, processing.THUMBNAIL_MAX_SOURCE_BYTES) > LAMBDA_MAX_TIMEOUT_S / 4
    assert sizing.timeout_for(processor_trigger().batch_size, largest, 0) > LAMBDA_MAX_TIMEOUT_S


def test_template_carries_the_sized_numbers(assembly: Assembly) -> None:
    fn, trigger = by_name("processor"), processor_trigger()
    for stage in STAGES:
        template = assembly.templates[stack(stage)]
        (processor,) = [
            (lid, r) for lid, r in resources(template, "AWS::Lambda::Function").items()
            if r["Properties"].get("FunctionName") == f"fileshare-{stage}-processor"
        ]
        assert processor[1]["Properties"]["Timeout"] == fn.timeout_s
        (mapping,) = [
            r for r in resources(template, "AWS::Lambda::EventSourceMapping").values()
            if r["Properties"]["FunctionName"] == {"Ref": processor[0]}
        ]
        assert mapping["Properties"]["BatchSize"] == trigger.batch_size
        assert mapping["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        (queue,) = [
            r for r in resources(template, "AWS::SQS::Queue").values()
            if r["Properties"].get("QueueName") == f"fileshare-{stage}-{UPLOAD_QUEUE}"
        ]
        assert queue["Properties"]["VisibilityTimeout"] == sizing.VISIBILITY_FACTOR * fn.timeout_s
