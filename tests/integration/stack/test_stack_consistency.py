"""`make up`'s consistency check finds what disagrees across the services (and changes nothing)."""

from __future__ import annotations

import os
import uuid

from stackctl import consistency
from tests.support.rows import connect, create_pending_file, create_user


def _counts() -> dict[str, int]:
    return {f.check: f.count for f in consistency.check(dict(os.environ))}


def test_a_ready_row_without_its_object_and_a_user_without_a_login_are_found() -> None:
    before = _counts()
    assert not any(check.startswith("check failed") for check in before), before
    with connect(os.environ["DATABASE_URL"]) as conn:
        owner = create_user(conn)  # a row only: no Cognito user behind it
        planted = create_pending_file(conn, owner, name=f"gone-{uuid.uuid4().hex[:6]}.txt", size=5,
                                      content_type="text/plain")
        conn.execute("UPDATE files SET status = 'ready' WHERE file_id = %s", (planted.file_id,))
        try:
            after = _counts()
        finally:
            conn.execute("DELETE FROM files WHERE file_id = %s", (planted.file_id,))
            conn.execute("DELETE FROM users WHERE user_id = %s", (owner,))
    assert after["file rows whose object is missing"] == before["file rows whose object is missing"] + 1
    assert after["users rows without a Cognito user"] == before["users rows without a Cognito user"] + 1
    assert after["ready rows without a search document"] == before["ready rows without a search document"] + 1
    assert consistency.last_report()  # what `make status` prints
