from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="FileCreate")


@_attrs_define
class FileCreate:
    """
    Attributes:
        name (str):
        size (int): bytes; S3 takes at most 5 TiB, the deployment's MAX_UPLOAD_BYTES and the quota may allow less (413)
        content_type (str):
        tags (list[str] | Unset):
        expires_at (datetime.datetime | None | Unset):
        checksum_sha256 (None | str | Unset): the whole file's SHA-256: a single POST upload is signed with it, so S3
            refuses bytes that do not match
        part_checksums (bool | Unset): multipart: every part is signed with its SHA-256 (POST /files/{id}/parts with
            checksums), so S3 checks every part and the processor need not read the object again; no part is signed up front
            Default: False.
        folder_id (None | Unset | UUID): the folder to upload into (default: the root)
        relative_path (None | str | Unset): a folder upload's path relative to folder_id (the browser's
            webkitRelativePath, e.g. 'Trip/day 1/a.jpg'): missing folders are created
    """

    name: str
    size: int
    content_type: str
    tags: list[str] | Unset = UNSET
    expires_at: datetime.datetime | None | Unset = UNSET
    checksum_sha256: None | str | Unset = UNSET
    part_checksums: bool | Unset = False
    folder_id: None | Unset | UUID = UNSET
    relative_path: None | str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        name = self.name

        size = self.size

        content_type = self.content_type

        tags: list[str] | Unset = UNSET
        if not isinstance(self.tags, Unset):
            tags = self.tags

        expires_at: None | str | Unset
        if isinstance(self.expires_at, Unset):
            expires_at = UNSET
        elif isinstance(self.expires_at, datetime.datetime):
            expires_at = self.expires_at.isoformat()
        else:
            expires_at = self.expires_at

        checksum_sha256: None | str | Unset
        if isinstance(self.checksum_sha256, Unset):
            checksum_sha256 = UNSET
        else:
            checksum_sha256 = self.checksum_sha256

        part_checksums = self.part_checksums

        folder_id: None | str | Unset
        if isinstance(self.folder_id, Unset):
            folder_id = UNSET
        elif isinstance(self.folder_id, UUID):
            folder_id = str(self.folder_id)
        else:
            folder_id = self.folder_id

        relative_path: None | str | Unset
        if isinstance(self.relative_path, Unset):
            relative_path = UNSET
        else:
            relative_path = self.relative_path

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "name": name,
                "size": size,
                "content_type": content_type,
            }
        )
        if tags is not UNSET:
            field_dict["tags"] = tags
        if expires_at is not UNSET:
            field_dict["expires_at"] = expires_at
        if checksum_sha256 is not UNSET:
            field_dict["checksum_sha256"] = checksum_sha256
        if part_checksums is not UNSET:
            field_dict["part_checksums"] = part_checksums
        if folder_id is not UNSET:
            field_dict["folder_id"] = folder_id
        if relative_path is not UNSET:
            field_dict["relative_path"] = relative_path

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        name = d.pop("name")

        size = d.pop("size")

        content_type = d.pop("content_type")

        tags = cast(list[str], d.pop("tags", UNSET))

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

        def _parse_checksum_sha256(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        checksum_sha256 = _parse_checksum_sha256(d.pop("checksum_sha256", UNSET))

        part_checksums = d.pop("part_checksums", UNSET)

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

        def _parse_relative_path(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        relative_path = _parse_relative_path(d.pop("relative_path", UNSET))

        file_create = cls(
            name=name,
            size=size,
            content_type=content_type,
            tags=tags,
            expires_at=expires_at,
            checksum_sha256=checksum_sha256,
            part_checksums=part_checksums,
            folder_id=folder_id,
            relative_path=relative_path,
        )

        return file_create
