from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.part_url_headers_type_0 import PartUrlHeadersType0


T = TypeVar("T", bound="PartUrl")


@_attrs_define
class PartUrl:
    """
    Attributes:
        part_number (int):
        url (str):
        headers (None | PartUrlHeadersType0 | Unset): headers the PUT must carry (the part's signed x-amz-checksum-
            sha256)
    """

    part_number: int
    url: str
    headers: None | PartUrlHeadersType0 | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.part_url_headers_type_0 import PartUrlHeadersType0

        part_number = self.part_number

        url = self.url

        headers: dict[str, Any] | None | Unset
        if isinstance(self.headers, Unset):
            headers = UNSET
        elif isinstance(self.headers, PartUrlHeadersType0):
            headers = self.headers.to_dict()
        else:
            headers = self.headers

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "part_number": part_number,
                "url": url,
            }
        )
        if headers is not UNSET:
            field_dict["headers"] = headers

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.part_url_headers_type_0 import PartUrlHeadersType0

        d = dict(src_dict)
        part_number = d.pop("part_number")

        url = d.pop("url")

        def _parse_headers(data: object) -> None | PartUrlHeadersType0 | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                headers_type_0 = PartUrlHeadersType0.from_dict(data)

                return headers_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | PartUrlHeadersType0 | Unset, data)

        headers = _parse_headers(d.pop("headers", UNSET))

        part_url = cls(
            part_number=part_number,
            url=url,
            headers=headers,
        )

        part_url.additional_properties = d
        return part_url

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
