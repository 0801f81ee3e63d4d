from enum import StrEnum


class FolderDetailStatus(StrEnum):
    ACTIVE = "active"
    DELETING = "deleting"
    TRASHED = "trashed"

    def __str__(self) -> str:
        return str(self.value)
