from enum import StrEnum


class VersionOutStatus(StrEnum):
    PENDING = "pending"
    READY = "ready"
    REJECTED = "rejected"

    def __str__(self) -> str:
        return str(self.value)
