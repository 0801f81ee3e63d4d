from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.multipart_upload import MultipartUpload
    from ..models.post_upload import PostUpload


T = TypeVar("T", bound="FileCreated")


@_attrs_define
class FileCreated:
    """
    Attributes:
        file_id (UUID):
        upload (MultipartUpload | PostUpload):
    """

    file_id: UUID
    upload: MultipartUpload | PostUpload
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.post_upload import PostUpload

        file_id = str(self.file_id)

        upload: dict[str, Any]
        if isinstance(self.upload, PostUpload):
            upload = self.upload.to_dict()
        else:
            upload = self.upload.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "file_id": file_id,
                "upload": upload,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.multipart_upload import MultipartUpload
        from ..models.post_upload import PostUpload

        d = dict(src_dict)
        file_id = UUID(d.pop("file_id"))

        def _parse_upload(data: object) -> MultipartUpload | PostUpload:
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                upload_type_0 = PostUpload.from_dict(data)

                return upload_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            if not isinstance(data, dict):
                raise TypeError()
            upload_type_1 = MultipartUpload.from_dict(data)

            return upload_type_1

        upload = _parse_upload(d.pop("upload"))

        file_created = cls(
            file_id=file_id,
            upload=upload,
        )

        file_created.additional_properties = d
        return file_created

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
