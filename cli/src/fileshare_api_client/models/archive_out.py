from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.archive_out_status import ArchiveOutStatus
from ..types import UNSET, Unset

T = TypeVar("T", bound="ArchiveOut")


@_attrs_define
class ArchiveOut:
    """An archive job and its progress; ``download`` once ``status`` is ready.

    Attributes:
        archive_id (UUID):
        name (str):
        status (ArchiveOutStatus):
        files_total (int):
        files_done (int):
        bytes_total (int): bytes of the files going in
        bytes_done (int):
        created_at (datetime.datetime):
        size (int | None | Unset): the ZIP's size once ready
        failure_reason (None | str | Unset): machine-readable, once failed: source_missing, source_changed,
            source_unavailable, too_large, storage_error, worker_lost
        failure_detail (None | str | Unset):
        ready_at (datetime.datetime | None | Unset):
        expires_at (datetime.datetime | None | Unset):
        folder_id (None | Unset | UUID): the folder zipped (absent: a selection)
    """

    archive_id: UUID
    name: str
    status: ArchiveOutStatus
    files_total: int
    files_done: int
    bytes_total: int
    bytes_done: int
    created_at: datetime.datetime
    size: int | None | Unset = UNSET
    failure_reason: None | str | Unset = UNSET
    failure_detail: None | str | Unset = UNSET
    ready_at: datetime.datetime | None | Unset = UNSET
    expires_at: datetime.datetime | None | Unset = UNSET
    folder_id: None | Unset | UUID = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        archive_id = str(self.archive_id)

        name = self.name

        status = self.status.value

        files_total = self.files_total

        files_done = self.files_done

        bytes_total = self.bytes_total

        bytes_done = self.bytes_done

        created_at = self.created_at.isoformat()

        size: int | None | Unset
        if isinstance(self.size, Unset):
            size = UNSET
        else:
            size = self.size

        failure_reason: None | str | Unset
        if isinstance(self.failure_reason, Unset):
            failure_reason = UNSET
        else:
            failure_reason = self.failure_reason

        failure_detail: None | str | Unset
        if isinstance(self.failure_detail, Unset):
            failure_detail = UNSET
        else:
            failure_detail = self.failure_detail

        ready_at: None | str | Unset
        if isinstance(self.ready_at, Unset):
            ready_at = UNSET
        elif isinstance(self.ready_at, datetime.datetime):
            ready_at = self.ready_at.isoformat()
        else:
            ready_at = self.ready_at

        expires_at: None | str | Unset
        if isinstance(self.expires_at, Unset):
            expires_at = UNSET
        elif isinstance(self.expires_at, datetime.datetime):
            expires_at = self.expires_at.isoformat()
        else:
            expires_at = self.expires_at

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
                "archive_id": archive_id,
                "name": name,
                "status": status,
                "files_total": files_total,
                "files_done": files_done,
                "bytes_total": bytes_total,
                "bytes_done": bytes_done,
                "created_at": created_at,
            }
        )
        if size is not UNSET:
            field_dict["size"] = size
        if failure_reason is not UNSET:
            field_dict["failure_reason"] = failure_reason
        if failure_detail is not UNSET:
            field_dict["failure_detail"] = failure_detail
        if ready_at is not UNSET:
            field_dict["ready_at"] = ready_at
        if expires_at is not UNSET:
            field_dict["expires_at"] = expires_at
        if folder_id is not UNSET:
            field_dict["folder_id"] = folder_id

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        archive_id = UUID(d.pop("archive_id"))

        name = d.pop("name")

        status = ArchiveOutStatus(d.pop("status"))

        files_total = d.pop("files_total")

        files_done = d.pop("files_done")

        bytes_total = d.pop("bytes_total")

        bytes_done = d.pop("bytes_done")

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        def _parse_size(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        size = _parse_size(d.pop("size", UNSET))

        def _parse_failure_reason(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        failure_reason = _parse_failure_reason(d.pop("failure_reason", UNSET))

        def _parse_failure_detail(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        failure_detail = _parse_failure_detail(d.pop("failure_detail", UNSET))

        def _parse_ready_at(data: object) -> datetime.datetime | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                ready_at_type_0 = datetime.datetime.fromisoformat(data)

                return ready_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None | Unset, data)

        ready_at = _parse_ready_at(d.pop("ready_at", UNSET))

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

        archive_out = cls(
            archive_id=archive_id,
            name=name,
            status=status,
            files_total=files_total,
            files_done=files_done,
            bytes_total=bytes_total,
            bytes_done=bytes_done,
            created_at=created_at,
            size=size,
            failure_reason=failure_reason,
            failure_detail=failure_detail,
            ready_at=ready_at,
            expires_at=expires_at,
            folder_id=folder_id,
        )

        archive_out.additional_properties = d
        return archive_out

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
