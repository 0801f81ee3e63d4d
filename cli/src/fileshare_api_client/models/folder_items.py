from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.folder_detail import FolderDetail
    from ..models.folder_item import FolderItem


T = TypeVar("T", bound="FolderItems")


@_attrs_define
class FolderItems:
    """A folder's contents: subfolders first, then files, each by name (case-insensitive).

    Attributes:
        items (list[FolderItem]):
        folder (FolderDetail | None | Unset): the folder listed, with its breadcrumbs (absent for the root)
        next_cursor (None | str | Unset):
    """

    items: list[FolderItem]
    folder: FolderDetail | None | Unset = UNSET
    next_cursor: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.folder_detail import FolderDetail

        items = []
        for items_item_data in self.items:
            items_item = items_item_data.to_dict()
            items.append(items_item)

        folder: dict[str, Any] | None | Unset
        if isinstance(self.folder, Unset):
            folder = UNSET
        elif isinstance(self.folder, FolderDetail):
            folder = self.folder.to_dict()
        else:
            folder = self.folder

        next_cursor: None | str | Unset
        if isinstance(self.next_cursor, Unset):
            next_cursor = UNSET
        else:
            next_cursor = self.next_cursor

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "items": items,
            }
        )
        if folder is not UNSET:
            field_dict["folder"] = folder
        if next_cursor is not UNSET:
            field_dict["next_cursor"] = next_cursor

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.folder_detail import FolderDetail
        from ..models.folder_item import FolderItem

        d = dict(src_dict)
        items = []
        _items = d.pop("items")
        for items_item_data in _items:
            items_item = FolderItem.from_dict(items_item_data)

            items.append(items_item)

        def _parse_folder(data: object) -> FolderDetail | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                folder_type_0 = FolderDetail.from_dict(data)

                return folder_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(FolderDetail | None | Unset, data)

        folder = _parse_folder(d.pop("folder", UNSET))

        def _parse_next_cursor(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        next_cursor = _parse_next_cursor(d.pop("next_cursor", UNSET))

        folder_items = cls(
            items=items,
            folder=folder,
            next_cursor=next_cursor,
        )

        folder_items.additional_properties = d
        return folder_items

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
