from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="PartsIn")


@_attrs_define
class PartsIn:
    """
    Attributes:
        part_numbers (list[int]):
        checksums (list[str] | None | Unset): each part's SHA-256, in the order of part_numbers (required when the
            upload was created with part_checksums)
    """

    part_numbers: list[int]
    checksums: list[str] | None | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        part_numbers = self.part_numbers

        checksums: list[str] | None | Unset
        if isinstance(self.checksums, Unset):
            checksums = UNSET
        elif isinstance(self.checksums, list):
            checksums = self.checksums

        else:
            checksums = self.checksums

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "part_numbers": part_numbers,
            }
        )
        if checksums is not UNSET:
            field_dict["checksums"] = checksums

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        part_numbers = cast(list[int], d.pop("part_numbers"))

        def _parse_checksums(data: object) -> list[str] | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                checksums_type_0 = cast(list[str], data)

                return checksums_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[str] | None | Unset, data)

        checksums = _parse_checksums(d.pop("checksums", UNSET))

        parts_in = cls(
            part_numbers=part_numbers,
            checksums=checksums,
        )

        return parts_in
