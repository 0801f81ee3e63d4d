from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="LinkIn")


@_attrs_define
class LinkIn:
    """All optional: no expiry, no password and no download limit unless given.

    Attributes:
        expires_in (int | None | Unset):
        password (None | str | Unset):
        max_downloads (int | None | Unset):
    """

    expires_in: int | None | Unset = UNSET
    password: None | str | Unset = UNSET
    max_downloads: int | None | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        expires_in: int | None | Unset
        if isinstance(self.expires_in, Unset):
            expires_in = UNSET
        else:
            expires_in = self.expires_in

        password: None | str | Unset
        if isinstance(self.password, Unset):
            password = UNSET
        else:
            password = self.password

        max_downloads: int | None | Unset
        if isinstance(self.max_downloads, Unset):
            max_downloads = UNSET
        else:
            max_downloads = self.max_downloads

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if expires_in is not UNSET:
            field_dict["expires_in"] = expires_in
        if password is not UNSET:
            field_dict["password"] = password
        if max_downloads is not UNSET:
            field_dict["max_downloads"] = max_downloads

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)

        def _parse_expires_in(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        expires_in = _parse_expires_in(d.pop("expires_in", UNSET))

        def _parse_password(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        password = _parse_password(d.pop("password", UNSET))

        def _parse_max_downloads(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        max_downloads = _parse_max_downloads(d.pop("max_downloads", UNSET))

        link_in = cls(
            expires_in=expires_in,
            password=password,
            max_downloads=max_downloads,
        )

        return link_in
