"""The migration files themselves are well-formed and numbered without gaps."""

from __future__ import annotations

from pathlib import Path

import pytest

from fileshare.db import migrate


def test_shipped_migrations_are_numbered_from_one_in_order() -> None:
    # Parallel work gets ranges of numbers (e.g. 0025-0029), so gaps between ranges are expected.
    versions = [m.version for m in migrate.discover()]
    assert versions[0] == 1 and versions == sorted(set(versions))


def test_bad_file_name_is_refused(tmp_path: Path) -> None:
    (tmp_path / "init.sql").write_text("SELECT 1;")
    with pytest.raises(migrate.MigrationError, match="bad migration file name"):
        migrate.discover(tmp_path)


def test_duplicate_versions_are_refused(tmp_path: Path) -> None:
    (tmp_path / "0001_a.sql").write_text("SELECT 1;")
    (tmp_path / "0001_b.sql").write_text("SELECT 2;")
    with pytest.raises(migrate.MigrationError, match="duplicate"):
        migrate.discover(tmp_path)
