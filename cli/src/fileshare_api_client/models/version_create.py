from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="VersionCreate")


@_attrs_define
class VersionCreate:
    """A new version of a file: its bytes go to S3 as a new upload's do (a presigned POST, or
    multipart from MULTIPART_THRESHOLD_BYTES: then PUT the parts and POST .../complete).

        Attributes:
            size (int): bytes; S3 takes at most 5 TiB, the deployment's MAX_UPLOAD_BYTES and the quota may allow less (413)
            content_type (str):
            name (None | str | Unset): the version's file name (default: the file's); the file takes it when the version
                becomes current, unless a sibling has it
            checksum_sha256 (None | str | Unset): the version's SHA-256: a single POST upload is signed with it, so S3
                refuses bytes that do not match
            part_checksums (bool | Unset): multipart: every part is signed with its SHA-256 (POST
                .../versions/{version_id}/parts with checksums), as for a new file Default: False.
    """

    size: int
    content_type: str
    name: None | str | Unset = UNSET
    checksum_sha256: None | str | Unset = UNSET
    part_checksums: bool | Unset = False

    def to_dict(self) -> dict[str, Any]:
        size = self.size

        content_type = self.content_type

        name: None | str | Unset
        if isinstance(self.name, Unset):
            name = UNSET
        else:
            name = self.name

        checksum_sha256: None | str | Unset
        if isinstance(self.checksum_sha256, Unset):
            checksum_sha256 = UNSET
        else:
            checksum_sha256 = self.checksum_sha256

        part_checksums = self.part_checksums

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "size": size,
                "content_type": content_type,
            }
        )
        if name is not UNSET:
            field_dict["name"] = name
        if checksum_sha256 is not UNSET:
            field_dict["checksum_sha256"] = checksum_sha256
        if part_checksums is not UNSET:
            field_dict["part_checksums"] = part_checksums

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        size = d.pop("size")

        content_type = d.pop("content_type")

        def _parse_name(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        name = _parse_name(d.pop("name", UNSET))

        def _parse_checksum_sha256(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        checksum_sha256 = _parse_checksum_sha256(d.pop("checksum_sha256", UNSET))

        part_checksums = d.pop("part_checksums", UNSET)

        version_create = cls(
            size=size,
            content_type=content_type,
            name=name,
            checksum_sha256=checksum_sha256,
            part_checksums=part_checksums,
        )

        return version_create
