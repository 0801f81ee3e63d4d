from enum import StrEnum


class FolderOutStatus(StrEnum):
    ACTIVE = "active"
    DELETING = "deleting"
    TRASHED = "trashed"

    def __str__(self) -> str:
        return str(self.value)
