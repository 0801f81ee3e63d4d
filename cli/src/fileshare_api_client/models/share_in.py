from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, Self, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="ShareIn")


@_attrs_define
class ShareIn:
    """
    Attributes:
        email (str):
        permission (Literal['viewer'] | Unset):  Default: 'viewer'.
    """

    email: str
    permission: Literal["viewer"] | Unset = "viewer"

    def to_dict(self) -> dict[str, Any]:
        email = self.email

        permission = self.permission

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "email": email,
            }
        )
        if permission is not UNSET:
            field_dict["permission"] = permission

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        email = d.pop("email")

        permission = cast(Literal["viewer"] | Unset, d.pop("permission", UNSET))
        if permission != "viewer" and not isinstance(permission, Unset):
            raise ValueError(f"permission must match const 'viewer', got '{permission}'")

        share_in = cls(
            email=email,
            permission=permission,
        )

        return share_in
