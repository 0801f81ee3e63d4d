"""One Lambda execution environment: imports the handler on first invoke, then serves invokes.

Run as a script by the pool (stdlib only, nothing from the runtime is imported, so the function's
``sys.path`` is just its code, the shared layer and the venv). Protocol over two pipes, one JSON
object per line: request ``{"id", "event", "timeout_ms", "arn"}``; on a cold start the reply
``{"init_ms"}`` comes first, then ``{"ok", "result" | "error", "duration_ms", "max_rss_mb"}``.
"""

from __future__ import annotations

import importlib
import json
import os
import resource
import signal
import sys
import time
import traceback
from typing import Any

_SCRIPT_DIR = os.path.dirname(os.path.abspath(__file__))


class LambdaContext:
    """The context object the Python runtime passes to handlers."""

    def __init__(self, request_id: str, arn: str, deadline: float) -> None:
        self.aws_request_id = request_id
        self.invoked_function_arn = arn
        self.function_name = os.environ["AWS_LAMBDA_FUNCTION_NAME"]
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME")
        self.identity = None
        self.client_context = None
        self.tenant_id = None
        self._deadline = deadline

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def _error(exc: BaseException, error_type: str | None = None) -> dict[str, Any]:
    return {
        "errorMessage": str(exc),
        "errorType": error_type or type(exc).__name__,
        "stackTrace": traceback.format_tb(exc.__traceback__),
    }


def _install_iam_gate() -> None:
    """Check this function's AWS calls against its synthesized role (``lambdarun.iam``), when the
    runtime asks for it (``FILESHARE_IAM_ROLES``). The gate's modules are imported from the repo,
    then the repo leaves ``sys.path``: the handler sees only its code, the layer and the venv."""
    if not os.environ.get("FILESHARE_IAM_ROLES"):
        return
    local_dir, repo_root = os.path.dirname(_SCRIPT_DIR), os.path.dirname(os.path.dirname(_SCRIPT_DIR))
    sys.path.extend([local_dir, repo_root])
    try:
        from lambdarun.iam import hooks

        hooks.install_from_env(os.environ["AWS_LAMBDA_FUNCTION_NAME"])
    finally:
        sys.path.remove(local_dir)
        sys.path.remove(repo_root)


def main() -> None:
    code_dir, layer_dir, handler_spec, fd_in, fd_out = sys.argv[1:6]
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the runtime's to handle
    sys.path[:] = [code_dir, layer_dir] + [p for p in sys.path if p and p != _SCRIPT_DIR]
    _install_iam_gate()
    os.chdir(code_dir)
    requests = os.fdopen(int(fd_in), "rb")
    replies = os.fdopen(int(fd_out), "wb")

    def reply(message: dict[str, Any]) -> None:
        sys.stdout.flush()
        sys.stderr.flush()
        replies.write(json.dumps(message, default=str).encode() + b"\n")
        replies.flush()

    module_name, attribute = handler_spec.rsplit(".", 1)
    handler: Any = None
    for line in requests:
        request = json.loads(line)
        if handler is None:
            started = time.perf_counter()
            try:
                module = importlib.import_module(module_name)
            except Exception as exc:
                reply({"init_ms": (time.perf_counter() - started) * 1000})
                error = _error(exc, "Runtime.ImportModuleError")
                error["errorMessage"] = f"Unable to import module '{module_name}': {exc}"
                _log_error(error)
                reply({"ok": False, "error": error, "fatal": True})
                sys.exit(1)
            handler = getattr(module, attribute, None)
            reply({"init_ms": (time.perf_counter() - started) * 1000})
            if handler is None:
                error = {"errorMessage": f"Handler '{attribute}' missing on module '{module_name}'",
                         "errorType": "Runtime.HandlerNotFound", "stackTrace": []}
                _log_error(error)
                reply({"ok": False, "error": error, "fatal": True})
                sys.exit(1)
        started = time.perf_counter()
        context = LambdaContext(request["id"], request["arn"],
                                time.monotonic() + request["timeout_ms"] / 1000)
        try:
            result = handler(request["event"], context)
        except Exception as exc:
            error = _error(exc)
            _log_error(error, request["id"])
            payload = json.dumps({"ok": False, "error": error})
        else:
            try:
                payload = json.dumps({"ok": True, "result": result})
            except (TypeError, ValueError) as exc:
                error = _error(exc, "Runtime.MarshalError")
                error["errorMessage"] = f"Unable to marshal response: {exc}"
                payload = json.dumps({"ok": False, "error": error})
        duration_ms = (time.perf_counter() - started) * 1000
        rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        tail = json.dumps({"duration_ms": duration_ms, "max_rss_mb": rss_mb})
        sys.stdout.flush()
        sys.stderr.flush()
        replies.write(payload[:-1].encode() + b", " + tail[1:].encode() + b"\n")
        replies.flush()


def _log_error(error: dict[str, Any], request_id: str | None = None) -> None:
    """What the Python runtime prints to the function's log for an unhandled error."""
    prefix = f"[ERROR] {error['errorType']}: {error['errorMessage']}"
    if request_id:
        prefix = f"[ERROR]\t{time.strftime('%Y-%m-%dT%H:%M:%S')}Z\t{request_id}\t{prefix[8:]}"
    sys.stderr.write(prefix + "\nTraceback (most recent call last):\n" + "".join(error["stackTrace"]))


if __name__ == "__main__":
    main()
