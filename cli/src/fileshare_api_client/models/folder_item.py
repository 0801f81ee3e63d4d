from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.folder_item_kind import FolderItemKind
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.file_out import FileOut
    from ..models.folder_out import FolderOut


T = TypeVar("T", bound="FolderItem")


@_attrs_define
class FolderItem:
    """
    Attributes:
        kind (FolderItemKind):
        folder (FolderOut | None | Unset):
        file (FileOut | None | Unset):
    """

    kind: FolderItemKind
    folder: FolderOut | None | Unset = UNSET
    file: FileOut | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.file_out import FileOut
        from ..models.folder_out import FolderOut

        kind = self.kind.value

        folder: dict[str, Any] | None | Unset
        if isinstance(self.folder, Unset):
            folder = UNSET
        elif isinstance(self.folder, FolderOut):
            folder = self.folder.to_dict()
        else:
            folder = self.folder

        file: dict[str, Any] | None | Unset
        if isinstance(self.file, Unset):
            file = UNSET
        elif isinstance(self.file, FileOut):
            file = self.file.to_dict()
        else:
            file = self.file

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "kind": kind,
            }
        )
        if folder is not UNSET:
            field_dict["folder"] = folder
        if file is not UNSET:
            field_dict["file"] = file

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.file_out import FileOut
        from ..models.folder_out import FolderOut

        d = dict(src_dict)
        kind = FolderItemKind(d.pop("kind"))

        def _parse_folder(data: object) -> FolderOut | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                folder_type_0 = FolderOut.from_dict(data)

                return folder_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(FolderOut | None | Unset, data)

        folder = _parse_folder(d.pop("folder", UNSET))

        def _parse_file(data: object) -> FileOut | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                file_type_0 = FileOut.from_dict(data)

                return file_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(FileOut | None | Unset, data)

        file = _parse_file(d.pop("file", UNSET))

        folder_item = cls(
            kind=kind,
            folder=folder,
            file=file,
        )

        folder_item.additional_properties = d
        return folder_item

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
