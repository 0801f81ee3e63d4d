from enum import StrEnum


class ArchiveOutStatus(StrEnum):
    DELETED = "deleted"
    EXPIRED = "expired"
    FAILED = "failed"
    QUEUED = "queued"
    READY = "ready"
    RUNNING = "running"

    def __str__(self) -> str:
        return str(self.value)
