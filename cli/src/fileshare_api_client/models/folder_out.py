from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.folder_out_pending_op_type_0 import FolderOutPendingOpType0
from ..models.folder_out_status import FolderOutStatus
from ..types import UNSET, Unset

T = TypeVar("T", bound="FolderOut")


@_attrs_define
class FolderOut:
    """
    Attributes:
        folder_id (UUID):
        name (str):
        parent_id (None | UUID):
        owner_id (str):
        status (FolderOutStatus):
        created_at (datetime.datetime):
        pending_op (FolderOutPendingOpType0 | None | Unset): a whole-folder operation still under way (its batches
            continue)
    """

    folder_id: UUID
    name: str
    parent_id: None | UUID
    owner_id: str
    status: FolderOutStatus
    created_at: datetime.datetime
    pending_op: FolderOutPendingOpType0 | None | Unset = UNSET
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

        pending_op: None | str | Unset
        if isinstance(self.pending_op, Unset):
            pending_op = UNSET
        elif isinstance(self.pending_op, FolderOutPendingOpType0):
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
            }
        )
        if pending_op is not UNSET:
            field_dict["pending_op"] = pending_op

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
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

        status = FolderOutStatus(d.pop("status"))

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        def _parse_pending_op(data: object) -> FolderOutPendingOpType0 | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                pending_op_type_0 = FolderOutPendingOpType0(data)

                return pending_op_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(FolderOutPendingOpType0 | None | Unset, data)

        pending_op = _parse_pending_op(d.pop("pending_op", UNSET))

        folder_out = cls(
            folder_id=folder_id,
            name=name,
            parent_id=parent_id,
            owner_id=owner_id,
            status=status,
            created_at=created_at,
            pending_op=pending_op,
        )

        folder_out.additional_properties = d
        return folder_out

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
