from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.post_upload_fields import PostUploadFields


T = TypeVar("T", bound="PostUpload")


@_attrs_define
class PostUpload:
    """A presigned POST: the browser sends ``fields`` plus the file as multipart/form-data.

    Attributes:
        url (str):
        fields (PostUploadFields):
        method (Literal['POST'] | Unset):  Default: 'POST'.
    """

    url: str
    fields: PostUploadFields
    method: Literal["POST"] | Unset = "POST"
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        url = self.url

        fields = self.fields.to_dict()

        method = self.method

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "url": url,
                "fields": fields,
            }
        )
        if method is not UNSET:
            field_dict["method"] = method

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.post_upload_fields import PostUploadFields

        d = dict(src_dict)
        url = d.pop("url")

        fields = PostUploadFields.from_dict(d.pop("fields"))

        method = cast(Literal["POST"] | Unset, d.pop("method", UNSET))
        if method != "POST" and not isinstance(method, Unset):
            raise ValueError(f"method must match const 'POST', got '{method}'")

        post_upload = cls(
            url=url,
            fields=fields,
            method=method,
        )

        post_upload.additional_properties = d
        return post_upload

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
