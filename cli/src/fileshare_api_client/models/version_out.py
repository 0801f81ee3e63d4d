from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.version_out_status import VersionOutStatus
from ..types import UNSET, Unset

T = TypeVar("T", bound="VersionOut")


@_attrs_define
class VersionOut:
    """
    Attributes:
        version_id (UUID): the first upload's version id is the file's id
        name (str):
        size (int):
        content_type (str):
        status (VersionOutStatus): pending (bytes on the way), ready, or rejected (see reject_reason)
        created_at (datetime.datetime):
        current (bool): the version the file shows, lists, shares and downloads
        reject_reason (None | str | Unset):
        checksum_sha256 (None | str | Unset):
    """

    version_id: UUID
    name: str
    size: int
    content_type: str
    status: VersionOutStatus
    created_at: datetime.datetime
    current: bool
    reject_reason: None | str | Unset = UNSET
    checksum_sha256: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        version_id = str(self.version_id)

        name = self.name

        size = self.size

        content_type = self.content_type

        status = self.status.value

        created_at = self.created_at.isoformat()

        current = self.current

        reject_reason: None | str | Unset
        if isinstance(self.reject_reason, Unset):
            reject_reason = UNSET
        else:
            reject_reason = self.reject_reason

        checksum_sha256: None | str | Unset
        if isinstance(self.checksum_sha256, Unset):
            checksum_sha256 = UNSET
        else:
            checksum_sha256 = self.checksum_sha256

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "version_id": version_id,
                "name": name,
                "size": size,
                "content_type": content_type,
                "status": status,
                "created_at": created_at,
                "current": current,
            }
        )
        if reject_reason is not UNSET:
            field_dict["reject_reason"] = reject_reason
        if checksum_sha256 is not UNSET:
            field_dict["checksum_sha256"] = checksum_sha256

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        version_id = UUID(d.pop("version_id"))

        name = d.pop("name")

        size = d.pop("size")

        content_type = d.pop("content_type")

        status = VersionOutStatus(d.pop("status"))

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        current = d.pop("current")

        def _parse_reject_reason(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        reject_reason = _parse_reject_reason(d.pop("reject_reason", UNSET))

        def _parse_checksum_sha256(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        checksum_sha256 = _parse_checksum_sha256(d.pop("checksum_sha256", UNSET))

        version_out = cls(
            version_id=version_id,
            name=name,
            size=size,
            content_type=content_type,
            status=status,
            created_at=created_at,
            current=current,
            reject_reason=reject_reason,
            checksum_sha256=checksum_sha256,
        )

        version_out.additional_properties = d
        return version_out

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
