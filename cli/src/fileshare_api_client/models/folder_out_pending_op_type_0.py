from enum import StrEnum


class FolderOutPendingOpType0(StrEnum):
    PURGE = "purge"
    RESTORE = "restore"
    TRASH = "trash"

    def __str__(self) -> str:
        return str(self.value)
