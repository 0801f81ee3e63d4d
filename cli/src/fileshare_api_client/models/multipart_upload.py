from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.part_url import PartUrl


T = TypeVar("T", bound="MultipartUpload")


@_attrs_define
class MultipartUpload:
    """A multipart upload: PUT each part to its URL, then POST /files/{id}/complete with the ETags.

    Attributes:
        upload_id (str):
        part_size (int):
        part_count (int):
        parts (list[PartUrl]): the first batch; sign the rest with POST /files/{id}/parts
        method (Literal['MULTIPART'] | Unset):  Default: 'MULTIPART'.
    """

    upload_id: str
    part_size: int
    part_count: int
    parts: list[PartUrl]
    method: Literal["MULTIPART"] | Unset = "MULTIPART"
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        upload_id = self.upload_id

        part_size = self.part_size

        part_count = self.part_count

        parts = []
        for parts_item_data in self.parts:
            parts_item = parts_item_data.to_dict()
            parts.append(parts_item)

        method = self.method

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "upload_id": upload_id,
                "part_size": part_size,
                "part_count": part_count,
                "parts": parts,
            }
        )
        if method is not UNSET:
            field_dict["method"] = method

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.part_url import PartUrl

        d = dict(src_dict)
        upload_id = d.pop("upload_id")

        part_size = d.pop("part_size")

        part_count = d.pop("part_count")

        parts = []
        _parts = d.pop("parts")
        for parts_item_data in _parts:
            parts_item = PartUrl.from_dict(parts_item_data)

            parts.append(parts_item)

        method = cast(Literal["MULTIPART"] | Unset, d.pop("method", UNSET))
        if method != "MULTIPART" and not isinstance(method, Unset):
            raise ValueError(f"method must match const 'MULTIPART', got '{method}'")

        multipart_upload = cls(
            upload_id=upload_id,
            part_size=part_size,
            part_count=part_count,
            parts=parts,
            method=method,
        )

        multipart_upload.additional_properties = d
        return multipart_upload

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
