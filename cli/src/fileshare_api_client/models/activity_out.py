from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.activity_out_action import ActivityOutAction
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.activity_client import ActivityClient
    from ..models.activity_out_details import ActivityOutDetails


T = TypeVar("T", bound="ActivityOut")


@_attrs_define
class ActivityOut:
    """One thing done to one of the caller's files (or folders: the ``folder_*`` actions), from the
    event that announced it.

        Attributes:
            activity_id (UUID): the id of the event it came from
            file_id (UUID): the file's id; the folder's for folder_created, folder_renamed, folder_moved (and a folder's
                shares)
            file_name (str):
            action (ActivityOutAction):
            event_type (str): the domain event, e.g. file.updated, link.downloaded
            occurred_at (datetime.datetime):
            details (ActivityOutDetails | Unset): what changed: e.g. name, tags, recipient, link_id, downloads
            client (ActivityClient | None | Unset): link downloads: who, coarsely
    """

    activity_id: UUID
    file_id: UUID
    file_name: str
    action: ActivityOutAction
    event_type: str
    occurred_at: datetime.datetime
    details: ActivityOutDetails | Unset = UNSET
    client: ActivityClient | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.activity_client import ActivityClient

        activity_id = str(self.activity_id)

        file_id = str(self.file_id)

        file_name = self.file_name

        action = self.action.value

        event_type = self.event_type

        occurred_at = self.occurred_at.isoformat()

        details: dict[str, Any] | Unset = UNSET
        if not isinstance(self.details, Unset):
            details = self.details.to_dict()

        client: dict[str, Any] | None | Unset
        if isinstance(self.client, Unset):
            client = UNSET
        elif isinstance(self.client, ActivityClient):
            client = self.client.to_dict()
        else:
            client = self.client

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "activity_id": activity_id,
                "file_id": file_id,
                "file_name": file_name,
                "action": action,
                "event_type": event_type,
                "occurred_at": occurred_at,
            }
        )
        if details is not UNSET:
            field_dict["details"] = details
        if client is not UNSET:
            field_dict["client"] = client

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.activity_client import ActivityClient
        from ..models.activity_out_details import ActivityOutDetails

        d = dict(src_dict)
        activity_id = UUID(d.pop("activity_id"))

        file_id = UUID(d.pop("file_id"))

        file_name = d.pop("file_name")

        action = ActivityOutAction(d.pop("action"))

        event_type = d.pop("event_type")

        occurred_at = datetime.datetime.fromisoformat(d.pop("occurred_at"))

        _details = d.pop("details", UNSET)
        details: ActivityOutDetails | Unset
        if isinstance(_details, Unset):
            details = UNSET
        else:
            details = ActivityOutDetails.from_dict(_details)

        def _parse_client(data: object) -> ActivityClient | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                client_type_0 = ActivityClient.from_dict(data)

                return client_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(ActivityClient | None | Unset, data)

        client = _parse_client(d.pop("client", UNSET))

        activity_out = cls(
            activity_id=activity_id,
            file_id=file_id,
            file_name=file_name,
            action=action,
            event_type=event_type,
            occurred_at=occurred_at,
            details=details,
            client=client,
        )

        activity_out.additional_properties = d
        return activity_out

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
