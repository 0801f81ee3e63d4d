"""With tracing on (as deployed) the X-Ray SDK is imported at the first traced call, not at init,
and the patches Powertools asks for at init are still applied then."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

SCRIPT = """
import sys
from fileshare.adapters.observability import tracer
assert "aws_xray_sdk.core" not in sys.modules, "imported at init"
import botocore.client
before = botocore.client.BaseClient._make_api_call
with tracer.provider.in_subsegment(name="## probe") as subsegment:
    pass  # outside Lambda there is no facade segment: the SDK hands out no subsegment
assert "aws_xray_sdk.core" in sys.modules
assert botocore.client.BaseClient._make_api_call is not before, "botocore not patched"
print("ok")
"""


def test_xray_is_imported_on_first_use_and_patches_then() -> None:
    env = {**os.environ, "POWERTOOLS_TRACE_DISABLED": "false", "AWS_XRAY_CONTEXT_MISSING": "IGNORE_ERROR",
           "LAMBDA_TASK_ROOT": str(REPO), "AWS_LAMBDA_FUNCTION_NAME": "probe",  # tracing only "in Lambda"
           "AWS_XRAY_SDK_ENABLED": "true", "PYTHONPATH": str(REPO / "layers" / "shared" / "python")}
    result = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True,
                            timeout=60, check=False)
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr[-2000:]
