"""SnapStart's runtime hooks (``fileshare.adapters.snapstart``), which only AWS calls, run here against the
real local services: the API function initializes as for a snapshot (the runtime's
``snapshot_restore_py`` replaced by a recorder), the before-snapshot hook warms it, a pooled
PostgreSQL connection and the Redis client stand for what the snapshot would hold, and after the
restore hook the handler answers with new connections and a reseeded ``random``."""

from __future__ import annotations

import json
import random
import subprocess
import sys
import uuid
from pathlib import Path

from fileshare.adapters import snapstart
from infra.declaration import FUNCTIONS, REPO_ROOT
from lambdarun.environment import function_env, load_env_file
from tests.support.apigw import event as rest_event

TEST_ENV = REPO_ROOT / ".local" / "test.env"
LAYER = REPO_ROOT / "layers" / "shared" / "python"

RECORDER = '''
"""Stands in for the Python managed runtime's snapshot_restore_py: records the hooks."""
before, after = [], []
def register_before_snapshot(fn, *args, **kwargs):
    before.append(fn)
    return fn
def register_after_restore(fn, *args, **kwargs):
    after.append(fn)
    return fn
'''

LIFECYCLE = r'''
import json, random, sys
sys.path[:0] = sys.argv[1:4]
import snapshot_restore_py as runtime
import handler  # the init Lambda runs once, when the version is published
from fileshare import models
from fileshare.adapters.cache import redis_client
from fileshare.db.connection import transaction

class Context:
    aws_request_id = "snapstart-test"
    invoked_function_arn = "arn:aws:lambda:us-east-1:000000000000:function:files:live"
    function_name = "files"
    function_version = "1"
    memory_limit_in_mb = "512"
    def get_remaining_time_in_millis(self):
        return 30000

def backend_pid():
    with transaction() as conn:
        return conn.execute("SELECT pg_backend_pid() AS pid").fetchone()["pid"]

out = {"before_hooks": len(runtime.before), "after_hooks": len(runtime.after)}
warmed = runtime.before[0]()
out["warmed"] = sorted(warmed)
out["otel_set_up"] = "opentelemetry.sdk.trace" in sys.modules
out["models_built"] = type(models.FileOut.__pydantic_validator__).__name__
pid_in_snapshot = backend_pid()  # what a snapshot taken now would hold open
cache_in_snapshot = redis_client()
cache_in_snapshot.ping()
random.seed(11)
out["reset"] = runtime.after[0]()
random_after = random.random()
random.seed(11)
out["random_reseeded"] = random_after != random.random()
event = json.loads(sys.stdin.read())
response = handler.lambda_handler(event, Context())
out["status"] = response["statusCode"]
out["error_code"] = json.loads(response["body"])["error"]["code"]
out["new_connection"] = backend_pid() != pid_in_snapshot
out["new_cache_client"] = redis_client() is not cache_in_snapshot
print(json.dumps(out))
'''


def test_files_function_warms_before_the_snapshot_and_reconnects_after_a_restore(tmp_path: Path) -> None:
    (tmp_path / "snapshot_restore_py.py").write_text(RECORDER)
    fn = next(f for f in FUNCTIONS if f.name == "files")
    code_dir = REPO_ROOT / "functions" / "files"
    env = function_env(fn, load_env_file(TEST_ENV), code_dir)
    # tracing on, as deployed (AWS exports OTLP to the collector layer; here to the stack's Zipkin)
    env.update(AWS_LAMBDA_INITIALIZATION_TYPE="snap-start", OTEL_TRACES_EXPORTER="zipkin")
    user = f"snap-{uuid.uuid4().hex[:12]}"
    file_id = str(uuid.uuid4())
    event = rest_event("GET", f"/files/{file_id}", resource="/files/{file_id}",
                       path_parameters={"file_id": file_id},
                       claims={"sub": user, "email": f"{user}@example.com", "email_verified": "true"})
    run = subprocess.run([sys.executable, "-c", LIFECYCLE, str(tmp_path), str(code_dir), str(LAYER)],
                         input=json.dumps(event), env=env, cwd=code_dir, capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stderr[-3000:]
    out = json.loads(run.stdout.strip().splitlines()[-1])
    assert out["before_hooks"] == 1 and out["after_hooks"] == 1
    assert {"otel", "boto3", "models", "warm0"} <= set(out["warmed"])  # warm0: the files app's routes
    assert out["otel_set_up"] and out["models_built"] == "SchemaValidator"
    assert {"random", "database pool", "database secret", "redis"} <= set(out["reset"])
    assert out["random_reseeded"]
    assert (out["status"], out["error_code"]) == (404, "file_not_found")  # a real lookup, answered
    assert out["new_connection"] and out["new_cache_client"]


def test_hooks_are_registered_only_when_lambda_initializes_for_a_snapshot() -> None:
    assert not snapstart.install({"AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand"})
    assert not snapstart.install({})
    assert "snapshot_restore_py" not in sys.modules  # nothing imported outside SnapStart


def test_after_restore_in_this_process_drops_the_pool_and_the_cache_client() -> None:
    from fileshare.adapters import storage
    from fileshare.adapters.aws import client as aws_client
    from fileshare.adapters.cache import redis_client
    from fileshare.db.connection import transaction
    from fileshare.search.index import client as search_client

    with transaction() as conn:
        before = conn.execute("SELECT pg_backend_pid() AS pid").fetchone()["pid"]  # type: ignore[index]
    client = redis_client()
    assert client is not None and client.ping()
    search = search_client()
    assert search.ping()
    s3, s3_for_complete = aws_client("s3"), storage._s3_for_complete()
    random.seed(3)
    expected = random.random()
    random.seed(3)
    reset = snapstart.after_restore()
    assert {"random", "database pool", "redis", "opensearch", "boto3 clients"} <= set(reset)
    assert search_client() is not search and search_client().ping()
    assert aws_client("s3") is not s3 and storage._s3_for_complete() is not s3_for_complete
    assert random.random() != expected
    with transaction() as conn:
        assert conn.execute("SELECT pg_backend_pid() AS pid").fetchone()["pid"] != before  # type: ignore[index]
    again = redis_client()
    assert again is not client and again is not None and again.ping()
