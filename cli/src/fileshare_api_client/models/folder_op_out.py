from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.folder_op_out_op import FolderOpOutOp

T = TypeVar("T", bound="FolderOpOut")


@_attrs_define
class FolderOpOut:
    """A whole-folder trash, restore or purge: ``done`` false means call again (or let the sweeper
    finish it); each call moves bounded batches of files.

        Attributes:
            folder_id (UUID):
            op (FolderOpOutOp):
            done (bool):
            remaining (int):
    """

    folder_id: UUID
    op: FolderOpOutOp
    done: bool
    remaining: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        folder_id = str(self.folder_id)

        op = self.op.value

        done = self.done

        remaining = self.remaining

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "folder_id": folder_id,
                "op": op,
                "done": done,
                "remaining": remaining,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        folder_id = UUID(d.pop("folder_id"))

        op = FolderOpOutOp(d.pop("op"))

        done = d.pop("done")

        remaining = d.pop("remaining")

        folder_op_out = cls(
            folder_id=folder_id,
            op=op,
            done=done,
            remaining=remaining,
        )

        folder_op_out.additional_properties = d
        return folder_op_out

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
