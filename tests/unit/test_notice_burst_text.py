"""What a burst of ready uploads says (``fileshare.notifications.bursts.text``, pure)."""

from __future__ import annotations

import pytest

from fileshare.notifications.bursts import text


@pytest.mark.parametrize(("count", "names", "subject", "message"), [
    (1, ["a.txt"], "Your upload “a.txt” is ready", "Your upload “a.txt” is ready."),
    (1, [""], "Your upload a file is ready", "Your upload a file is ready."),
    (2, ["a.txt", "b.txt"], "2 files are ready", "2 files are ready: “a.txt”, “b.txt”."),
    (3, ["a", "b", "c"], "3 files are ready", "3 files are ready: “a”, “b”, “c”."),
    (250, ["a", "b", "c", "d", "e"], "250 files are ready", "250 files are ready: “a”, “b” and 248 more."),
])
def test_a_burst_is_told_by_its_count_and_its_first_names(count: int, names: list[str], subject: str,
                                                          message: str) -> None:
    assert text(count, names) == (subject, message)
