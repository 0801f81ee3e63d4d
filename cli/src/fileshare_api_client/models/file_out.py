from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.file_out_status import FileOutStatus
from ..types import UNSET, Unset

T = TypeVar("T", bound="FileOut")


@_attrs_define
class FileOut:
    """
    Attributes:
        file_id (UUID):
        name (str):
        size (int):
        content_type (str):
        status (FileOutStatus):
        tags (list[str]):
        created_at (datetime.datetime):
        owner_id (str):
        checksum_sha256 (None | str | Unset):
        s3_checksum (None | str | Unset): the checksum S3 itself verified, 'SHA256:<base64>' or
            'SHA256-COMPOSITE:<base64>-<parts>'
        expires_at (datetime.datetime | None | Unset):
        thumbnail_url (None | str | Unset):
        folder_id (None | Unset | UUID):
    """

    file_id: UUID
    name: str
    size: int
    content_type: str
    status: FileOutStatus
    tags: list[str]
    created_at: datetime.datetime
    owner_id: str
    checksum_sha256: None | str | Unset = UNSET
    s3_checksum: None | str | Unset = UNSET
    expires_at: datetime.datetime | None | Unset = UNSET
    thumbnail_url: None | str | Unset = UNSET
    folder_id: None | Unset | UUID = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        file_id = str(self.file_id)

        name = self.name

        size = self.size

        content_type = self.content_type

        status = self.status.value

        tags = self.tags

        created_at = self.created_at.isoformat()

        owner_id = self.owner_id

        checksum_sha256: None | str | Unset
        if isinstance(self.checksum_sha256, Unset):
            checksum_sha256 = UNSET
        else:
            checksum_sha256 = self.checksum_sha256

        s3_checksum: None | str | Unset
        if isinstance(self.s3_checksum, Unset):
            s3_checksum = UNSET
        else:
            s3_checksum = self.s3_checksum

        expires_at: None | str | Unset
        if isinstance(self.expires_at, Unset):
            expires_at = UNSET
        elif isinstance(self.expires_at, datetime.datetime):
            expires_at = self.expires_at.isoformat()
        else:
            expires_at = self.expires_at

        thumbnail_url: None | str | Unset
        if isinstance(self.thumbnail_url, Unset):
            thumbnail_url = UNSET
        else:
            thumbnail_url = self.thumbnail_url

        folder_id: None | str | Unset
        if isinstance(self.folder_id, Unset):
            folder_id = UNSET
        elif isinstance(self.folder_id, UUID):
            folder_id = str(self.folder_id)
        else:
            folder_id = self.folder_id

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "file_id": file_id,
                "name": name,
                "size": size,
                "content_type": content_type,
                "status": status,
                "tags": tags,
                "created_at": created_at,
                "owner_id": owner_id,
            }
        )
        if checksum_sha256 is not UNSET:
            field_dict["checksum_sha256"] = checksum_sha256
        if s3_checksum is not UNSET:
            field_dict["s3_checksum"] = s3_checksum
        if expires_at is not UNSET:
            field_dict["expires_at"] = expires_at
        if thumbnail_url is not UNSET:
            field_dict["thumbnail_url"] = thumbnail_url
        if folder_id is not UNSET:
            field_dict["folder_id"] = folder_id

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        file_id = UUID(d.pop("file_id"))

        name = d.pop("name")

        size = d.pop("size")

        content_type = d.pop("content_type")

        status = FileOutStatus(d.pop("status"))

        tags = cast(list[str], d.pop("tags"))

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        owner_id = d.pop("owner_id")

        def _parse_checksum_sha256(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        checksum_sha256 = _parse_checksum_sha256(d.pop("checksum_sha256", UNSET))

        def _parse_s3_checksum(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        s3_checksum = _parse_s3_checksum(d.pop("s3_checksum", UNSET))

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

        def _parse_thumbnail_url(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        thumbnail_url = _parse_thumbnail_url(d.pop("thumbnail_url", UNSET))

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

        file_out = cls(
            file_id=file_id,
            name=name,
            size=size,
            content_type=content_type,
            status=status,
            tags=tags,
            created_at=created_at,
            owner_id=owner_id,
            checksum_sha256=checksum_sha256,
            s3_checksum=s3_checksum,
            expires_at=expires_at,
            thumbnail_url=thumbnail_url,
            folder_id=folder_id,
        )

        file_out.additional_properties = d
        return file_out

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
