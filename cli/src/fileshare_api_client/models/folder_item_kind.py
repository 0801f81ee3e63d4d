from enum import StrEnum


class FolderItemKind(StrEnum):
    FILE = "file"
    FOLDER = "folder"

    def __str__(self) -> str:
        return str(self.value)
