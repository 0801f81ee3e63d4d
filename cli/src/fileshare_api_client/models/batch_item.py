from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.error_body import ErrorBody
    from ..models.multipart_upload import MultipartUpload
    from ..models.post_upload import PostUpload


T = TypeVar("T", bound="BatchItem")


@_attrs_define
class BatchItem:
    """One entry's answer, in the request's order: its upload, or its own error (nothing was made
    for it: no row, no folder, no multipart upload, no quota reserved).

        Attributes:
            index (int): the entry's position in the request (0-based)
            file_id (None | Unset | UUID):
            upload (MultipartUpload | None | PostUpload | Unset):
            error (ErrorBody | None | Unset): quota_exceeded, file_too_large, invalid_name, content_type_not_allowed,
                expires_in_past, folder_not_found, folder_trashed, name_taken, ...
    """

    index: int
    file_id: None | Unset | UUID = UNSET
    upload: MultipartUpload | None | PostUpload | Unset = UNSET
    error: ErrorBody | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.error_body import ErrorBody
        from ..models.multipart_upload import MultipartUpload
        from ..models.post_upload import PostUpload

        index = self.index

        file_id: None | str | Unset
        if isinstance(self.file_id, Unset):
            file_id = UNSET
        elif isinstance(self.file_id, UUID):
            file_id = str(self.file_id)
        else:
            file_id = self.file_id

        upload: dict[str, Any] | None | Unset
        if isinstance(self.upload, Unset):
            upload = UNSET
        elif isinstance(self.upload, PostUpload) or isinstance(self.upload, MultipartUpload):
            upload = self.upload.to_dict()
        else:
            upload = self.upload

        error: dict[str, Any] | None | Unset
        if isinstance(self.error, Unset):
            error = UNSET
        elif isinstance(self.error, ErrorBody):
            error = self.error.to_dict()
        else:
            error = self.error

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "index": index,
            }
        )
        if file_id is not UNSET:
            field_dict["file_id"] = file_id
        if upload is not UNSET:
            field_dict["upload"] = upload
        if error is not UNSET:
            field_dict["error"] = error

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.error_body import ErrorBody
        from ..models.multipart_upload import MultipartUpload
        from ..models.post_upload import PostUpload

        d = dict(src_dict)
        index = d.pop("index")

        def _parse_file_id(data: object) -> None | Unset | UUID:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                file_id_type_0 = UUID(data)

                return file_id_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | Unset | UUID, data)

        file_id = _parse_file_id(d.pop("file_id", UNSET))

        def _parse_upload(data: object) -> MultipartUpload | None | PostUpload | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                upload_type_0 = PostUpload.from_dict(data)

                return upload_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                upload_type_1 = MultipartUpload.from_dict(data)

                return upload_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(MultipartUpload | None | PostUpload | Unset, data)

        upload = _parse_upload(d.pop("upload", UNSET))

        def _parse_error(data: object) -> ErrorBody | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                error_type_0 = ErrorBody.from_dict(data)

                return error_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(ErrorBody | None | Unset, data)

        error = _parse_error(d.pop("error", UNSET))

        batch_item = cls(
            index=index,
            file_id=file_id,
            upload=upload,
            error=error,
        )

        batch_item.additional_properties = d
        return batch_item

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
