"""Worker processes behave like Lambda execution environments (real processes, no mocks).

Given the runtime with test-only functions, when they are invoked, then the first call is a cold
start and later ones are warm in the same process; errors, crashes and timeouts are reported as
Lambda reports them; and one function's failures never disturb another.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from lambdarun.runtime import Runtime
from lambdarun.sources.schedule import Schedule
from tests.fixtures.functions.lambdarun_fixtures import CRASH, FIXTURE_FUNCTIONS, FIXTURES_DIR


@pytest.fixture
def runtime(tmp_path: Path) -> Iterator[Runtime]:
    rt = Runtime(FIXTURE_FUNCTIONS, base_env={"REDIS_URL": "redis://declared", "DATABASE_URL": "pg://hidden"},
                 code_root=FIXTURES_DIR, log_dir=tmp_path / "logs", max_concurrency=3)
    yield rt
    rt.close()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"


def test_cold_then_warm_in_the_same_process(runtime: Runtime) -> None:
    first = runtime.invoke("rt_echo", {"n": 1})
    second = runtime.invoke("rt_echo", {"n": 2})
    assert first.ok and second.ok
    assert first.cold and first.init_ms is not None and first.import_ms is not None
    assert not second.cold and second.init_ms is None
    assert first.result["pid"] == second.result["pid"] != os.getpid()
    assert (first.result["invocations"], second.result["invocations"]) == (1, 2)
    stats = runtime.stats.function("rt_echo")
    assert stats["cold_start_count"] == 1 and stats["invocations"] == 2
    log = runtime.pools["rt_echo"].log_path.read_text()
    assert log.count("REPORT RequestId:") == 2 and log.count("Init Duration:") == 1


def test_context_environment_and_path(runtime: Runtime) -> None:
    facts = runtime.invoke("rt_echo", {}, request_id="req-42").result
    assert facts["function_name"] == "rt_echo" and facts["request_id"] == "req-42"
    assert facts["arn"] == "arn:aws:lambda:us-east-1:000000000000:function:rt_echo"
    assert facts["memory"] == "128" and 0 < facts["remaining_ms"] <= 5000
    assert facts["log_stream"] and "[$LATEST]" in facts["log_stream"]
    assert facts["sys_path"][0] == str(FIXTURES_DIR / "rt_echo")
    assert facts["sys_path"][1].endswith("layers/shared/python")
    env = facts["env"]
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == "rt_echo" and env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "128"
    assert env["ECHO_SETTING"] == "from-declaration" and env["POWERTOOLS_SERVICE_NAME"] == "rt_echo"
    assert env["REDIS_URL"] == "redis://declared"  # declared Uses.CACHE
    assert env["DATABASE_URL"] is None  # not declared: hidden, as in AWS


def test_handler_exception_is_reported_and_keeps_the_worker_warm(runtime: Runtime) -> None:
    before = runtime.invoke("rt_crash", {})
    failed = runtime.invoke("rt_crash", {"action": "raise"})
    after = runtime.invoke("rt_crash", {})
    assert not failed.ok and failed.error is not None
    assert failed.error["errorType"] == "ValueError" and failed.error["errorMessage"] == "asked to fail"
    assert any("raise ValueError" in line for line in failed.error["stackTrace"])
    assert failed.error["requestId"] == failed.request_id
    assert after.ok and after.result["pid"] == before.result["pid"] and not after.cold
    assert "[ERROR]" in runtime.pools["rt_crash"].log_path.read_text()


def test_process_exit_is_runtime_exit_error_and_next_is_cold(runtime: Runtime) -> None:
    before = runtime.invoke("rt_crash", {})
    crashed = runtime.invoke("rt_crash", {"action": "exit"})
    after = runtime.invoke("rt_crash", {})
    assert crashed.error is not None and crashed.error["errorType"] == "Runtime.ExitError"
    assert "Runtime exited with error: exit status 3" in crashed.error["errorMessage"]
    assert after.ok and after.cold and after.result["pid"] != before.result["pid"]
    assert runtime.stats.function("rt_crash")["crashes"] == 1


def test_timeout_kills_the_worker_and_is_reported(runtime: Runtime) -> None:
    warm = runtime.invoke("rt_crash", {})
    timed_out = runtime.invoke("rt_crash", {"action": "sleep", "seconds": 30})
    assert timed_out.error is not None and timed_out.error["errorType"] == "Sandbox.Timedout"
    assert "Task timed out after 1.00 seconds" in timed_out.error["errorMessage"]
    assert not _alive(warm.result["pid"])
    after = runtime.invoke("rt_crash", {})
    assert after.ok and after.cold
    assert "Task timed out after 1.00 seconds" in runtime.pools["rt_crash"].log_path.read_text()


def test_unserializable_result_is_a_marshal_error(runtime: Runtime) -> None:
    result = runtime.invoke("rt_crash", {"action": "unserializable"})
    assert result.error is not None and result.error["errorType"] == "Runtime.MarshalError"


def test_import_error_is_reported_every_time(runtime: Runtime) -> None:
    for _ in range(2):
        result = runtime.invoke("rt_broken", {})
        assert result.error is not None and result.error["errorType"] == "Runtime.ImportModuleError"
        assert "this_module_does_not_exist" in result.error["errorMessage"] and result.cold


def test_a_failing_function_does_not_disturb_another(runtime: Runtime) -> None:
    echo_pid = runtime.invoke("rt_echo", {}).result["pid"]
    outcomes: dict[str, object] = {}
    hang = threading.Thread(target=lambda: outcomes.update(
        hang=runtime.invoke("rt_crash", {"action": "sleep", "seconds": 30})))
    hang.start()
    crash = runtime.invoke("rt_crash", {"action": "exit"})  # a second rt_crash worker, crashing
    echoes = [runtime.invoke("rt_echo", {"i": i}) for i in range(5)]
    hang.join()
    assert crash.error is not None and crash.error["errorType"] == "Runtime.ExitError"
    assert outcomes["hang"].error["errorType"] == "Sandbox.Timedout"  # type: ignore[attr-defined]
    assert all(e.ok and e.result["pid"] == echo_pid for e in echoes)


def test_parallel_invokes_get_their_own_workers(runtime: Runtime) -> None:
    barrier_results: list = []
    threads = [threading.Thread(target=lambda: barrier_results.append(
        runtime.invoke("rt_crash", {"action": "sleep", "seconds": 0.5}))) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(r.ok for r in barrier_results)
    assert len({r.result["pid"] for r in barrier_results}) == 3  # pool grew to 3, nobody queued
    assert runtime.pools["rt_crash"].warm_workers() == 3


def test_close_leaves_no_worker_process(tmp_path: Path) -> None:
    rt = Runtime(FIXTURE_FUNCTIONS, base_env={}, code_root=FIXTURES_DIR, log_dir=tmp_path)
    pids = [rt.invoke("rt_echo", {}).result["pid"], rt.invoke("rt_crash", {}).result["pid"]]
    assert all(_alive(pid) for pid in pids)
    rt.close()
    assert not any(_alive(pid) for pid in pids)


def test_schedule_invokes_with_a_scheduled_event(runtime: Runtime) -> None:
    schedule = Schedule(runtime.invoke, "rt_crash", CRASH.triggers[0], aws_region="us-east-1")  # type: ignore[arg-type]
    assert schedule.interval_s == 1
    assert schedule.fire().ok
    stop = threading.Event()
    runner = threading.Thread(target=schedule.run, args=(stop,))
    runner.start()
    for _ in range(100):  # a limit on waiting, not a timing assertion
        if runtime.stats.function("rt_crash")["invocations"] >= 3:
            break
        stop.wait(0.1)
    stop.set()
    runner.join()
    assert runtime.stats.function("rt_crash")["invocations"] >= 3
