from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="LinkOut")


@_attrs_define
class LinkOut:
    """A public link. ``url`` is only known when the link is created: the token is stored hashed.

    Attributes:
        link_id (UUID):
        file_id (UUID):
        downloads (int):
        has_password (bool):
        created_at (datetime.datetime):
        url (None | str | Unset):
        expires_at (datetime.datetime | None | Unset):
        max_downloads (int | None | Unset):
    """

    link_id: UUID
    file_id: UUID
    downloads: int
    has_password: bool
    created_at: datetime.datetime
    url: None | str | Unset = UNSET
    expires_at: datetime.datetime | None | Unset = UNSET
    max_downloads: int | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        link_id = str(self.link_id)

        file_id = str(self.file_id)

        downloads = self.downloads

        has_password = self.has_password

        created_at = self.created_at.isoformat()

        url: None | str | Unset
        if isinstance(self.url, Unset):
            url = UNSET
        else:
            url = self.url

        expires_at: None | str | Unset
        if isinstance(self.expires_at, Unset):
            expires_at = UNSET
        elif isinstance(self.expires_at, datetime.datetime):
            expires_at = self.expires_at.isoformat()
        else:
            expires_at = self.expires_at

        max_downloads: int | None | Unset
        if isinstance(self.max_downloads, Unset):
            max_downloads = UNSET
        else:
            max_downloads = self.max_downloads

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "link_id": link_id,
                "file_id": file_id,
                "downloads": downloads,
                "has_password": has_password,
                "created_at": created_at,
            }
        )
        if url is not UNSET:
            field_dict["url"] = url
        if expires_at is not UNSET:
            field_dict["expires_at"] = expires_at
        if max_downloads is not UNSET:
            field_dict["max_downloads"] = max_downloads

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        link_id = UUID(d.pop("link_id"))

        file_id = UUID(d.pop("file_id"))

        downloads = d.pop("downloads")

        has_password = d.pop("has_password")

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        def _parse_url(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        url = _parse_url(d.pop("url", UNSET))

        def _parse_expires_at(data: object) -> datetime.datetime | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                expires_at_type_0 = datetime.datetime.fromisoformat(data)

                return expires_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None | Unset, data)

        expires_at = _parse_expires_at(d.pop("expires_at", UNSET))

        def _parse_max_downloads(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        max_downloads = _parse_max_downloads(d.pop("max_downloads", UNSET))

        link_out = cls(
            link_id=link_id,
            file_id=file_id,
            downloads=downloads,
            has_password=has_password,
            created_at=created_at,
            url=url,
            expires_at=expires_at,
            max_downloads=max_downloads,
        )

        link_out.additional_properties = d
        return link_out

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
