from enum import StrEnum


class FileStatusOutStatus(StrEnum):
    DELETING = "deleting"
    PENDING = "pending"
    READY = "ready"
    REJECTED = "rejected"
    TRASHED = "trashed"

    def __str__(self) -> str:
        return str(self.value)
