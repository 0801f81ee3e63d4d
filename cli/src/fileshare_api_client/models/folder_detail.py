from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.folder_detail_pending_op_type_0 import FolderDetailPendingOpType0
from ..models.folder_detail_status import FolderDetailStatus
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.crumb import Crumb


T = TypeVar("T", bound="FolderDetail")


@_attrs_define
class FolderDetail:
    """
    Attributes:
        folder_id (UUID):
        name (str):
        parent_id (None | UUID):
        owner_id (str):
        status (FolderDetailStatus):
        created_at (datetime.datetime):
        path (list[Crumb]): breadcrumbs from the top (the root is implicit) to this folder; for a viewer, from the
            topmost folder they can read
        pending_op (FolderDetailPendingOpType0 | None | Unset): a whole-folder operation still under way (its batches
            continue)
    """

    folder_id: UUID
    name: str
    parent_id: None | UUID
    owner_id: str
    status: FolderDetailStatus
    created_at: datetime.datetime
    path: list[Crumb]
    pending_op: FolderDetailPendingOpType0 | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        folder_id = str(self.folder_id)

        name = self.name

        parent_id: None | str
        if isinstance(self.parent_id, UUID):
            parent_id = str(self.parent_id)
        else:
            parent_id = self.parent_id

        owner_id = self.owner_id

        status = self.status.value

        created_at = self.created_at.isoformat()

        path = []
        for path_item_data in self.path:
            path_item = path_item_data.to_dict()
            path.append(path_item)

        pending_op: None | str | Unset
        if isinstance(self.pending_op, Unset):
            pending_op = UNSET
        elif isinstance(self.pending_op, FolderDetailPendingOpType0):
            pending_op = self.pending_op.value
        else:
            pending_op = self.pending_op

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "folder_id": folder_id,
                "name": name,
                "parent_id": parent_id,
                "owner_id": owner_id,
                "status": status,
                "created_at": created_at,
                "path": path,
            }
        )
        if pending_op is not UNSET:
            field_dict["pending_op"] = pending_op

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.crumb import Crumb

        d = dict(src_dict)
        folder_id = UUID(d.pop("folder_id"))

        name = d.pop("name")

        def _parse_parent_id(data: object) -> None | UUID:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                parent_id_type_0 = UUID(data)

                return parent_id_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | UUID, data)

        parent_id = _parse_parent_id(d.pop("parent_id"))

        owner_id = d.pop("owner_id")

        status = FolderDetailStatus(d.pop("status"))

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        path = []
        _path = d.pop("path")
        for path_item_data in _path:
            path_item = Crumb.from_dict(path_item_data)

            path.append(path_item)

        def _parse_pending_op(data: object) -> FolderDetailPendingOpType0 | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                pending_op_type_0 = FolderDetailPendingOpType0(data)

                return pending_op_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(FolderDetailPendingOpType0 | None | Unset, data)

        pending_op = _parse_pending_op(d.pop("pending_op", UNSET))

        folder_detail = cls(
            folder_id=folder_id,
            name=name,
            parent_id=parent_id,
            owner_id=owner_id,
            status=status,
            created_at=created_at,
            path=path,
            pending_op=pending_op,
        )

        folder_detail.additional_properties = d
        return folder_detail

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
