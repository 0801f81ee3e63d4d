from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, Literal, Self, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="ShareOut")


@_attrs_define
class ShareOut:
    """
    Attributes:
        share_id (UUID):
        file_id (UUID):
        email (str):
        permission (Literal['viewer']):
        created_at (datetime.datetime):
    """

    share_id: UUID
    file_id: UUID
    email: str
    permission: Literal["viewer"]
    created_at: datetime.datetime
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        share_id = str(self.share_id)

        file_id = str(self.file_id)

        email = self.email

        permission = self.permission

        created_at = self.created_at.isoformat()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "share_id": share_id,
                "file_id": file_id,
                "email": email,
                "permission": permission,
                "created_at": created_at,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        share_id = UUID(d.pop("share_id"))

        file_id = UUID(d.pop("file_id"))

        email = d.pop("email")

        permission = cast(Literal["viewer"], d.pop("permission"))
        if permission != "viewer":
            raise ValueError(f"permission must match const 'viewer', got '{permission}'")

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        share_out = cls(
            share_id=share_id,
            file_id=file_id,
            email=email,
            permission=permission,
            created_at=created_at,
        )

        share_out.additional_properties = d
        return share_out

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
