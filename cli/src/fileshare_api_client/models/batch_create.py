from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar

from attrs import define as _attrs_define

if TYPE_CHECKING:
    from ..models.file_create import FileCreate


T = TypeVar("T", bound="BatchCreate")


@_attrs_define
class BatchCreate:
    """Many uploads started at once, each entry exactly what ``POST /files`` takes. An entry that is
    malformed (its shape) refuses the whole request with 422; an entry that breaks a rule needing
    the server (quota, name, size, type, folder) gets its own error and the others go on.

        Attributes:
            files (list[FileCreate]): at most 500 entries
    """

    files: list[FileCreate]

    def to_dict(self) -> dict[str, Any]:
        files = []
        for files_item_data in self.files:
            files_item = files_item_data.to_dict()
            files.append(files_item)

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "files": files,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.file_create import FileCreate

        d = dict(src_dict)
        files = []
        _files = d.pop("files")
        for files_item_data in _files:
            files_item = FileCreate.from_dict(files_item_data)

            files.append(files_item)

        batch_create = cls(
            files=files,
        )

        return batch_create
