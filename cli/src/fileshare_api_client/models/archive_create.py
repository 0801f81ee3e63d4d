from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="ArchiveCreate")


@_attrs_define
class ArchiveCreate:
    """A selection (``file_ids``) or a whole folder (``folder_id``): exactly one of the two.

    Attributes:
        file_ids (list[UUID] | None | Unset): files the caller owns or that are shared with them; duplicates count once
        folder_id (None | Unset | UUID): a folder the caller owns or reads through a share: every ready file below it,
            recursively, under its path
        name (None | str | Unset): the ZIP's file name (.zip is added; a folder's archive is named after the folder by
            default)
    """

    file_ids: list[UUID] | None | Unset = UNSET
    folder_id: None | Unset | UUID = UNSET
    name: None | str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        file_ids: list[str] | None | Unset
        if isinstance(self.file_ids, Unset):
            file_ids = UNSET
        elif isinstance(self.file_ids, list):
            file_ids = []
            for file_ids_type_0_item_data in self.file_ids:
                file_ids_type_0_item = str(file_ids_type_0_item_data)
                file_ids.append(file_ids_type_0_item)

        else:
            file_ids = self.file_ids

        folder_id: None | str | Unset
        if isinstance(self.folder_id, Unset):
            folder_id = UNSET
        elif isinstance(self.folder_id, UUID):
            folder_id = str(self.folder_id)
        else:
            folder_id = self.folder_id

        name: None | str | Unset
        if isinstance(self.name, Unset):
            name = UNSET
        else:
            name = self.name

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if file_ids is not UNSET:
            field_dict["file_ids"] = file_ids
        if folder_id is not UNSET:
            field_dict["folder_id"] = folder_id
        if name is not UNSET:
            field_dict["name"] = name

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)

        def _parse_file_ids(data: object) -> list[UUID] | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                file_ids_type_0 = []
                _file_ids_type_0 = data
                for file_ids_type_0_item_data in _file_ids_type_0:
                    file_ids_type_0_item = UUID(file_ids_type_0_item_data)

                    file_ids_type_0.append(file_ids_type_0_item)

                return file_ids_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[UUID] | None | Unset, data)

        file_ids = _parse_file_ids(d.pop("file_ids", UNSET))

        def _parse_folder_id(data: object) -> None | Unset | UUID:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                folder_id_type_0 = UUID(data)

                return folder_id_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | Unset | UUID, data)

        folder_id = _parse_folder_id(d.pop("folder_id", UNSET))

        def _parse_name(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        name = _parse_name(d.pop("name", UNSET))

        archive_create = cls(
            file_ids=file_ids,
            folder_id=folder_id,
            name=name,
        )

        return archive_create
