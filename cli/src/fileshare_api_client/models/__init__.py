"""Contains all the data models used in inputs/outputs"""

from .accepted import Accepted
from .activity_client import ActivityClient
from .activity_list import ActivityList
from .activity_out import ActivityOut
from .activity_out_action import ActivityOutAction
from .activity_out_details import ActivityOutDetails
from .archive_create import ArchiveCreate
from .archive_list import ArchiveList
from .archive_out import ArchiveOut
from .archive_out_status import ArchiveOutStatus
from .batch_create import BatchCreate
from .batch_created import BatchCreated
from .batch_item import BatchItem
from .complete_in import CompleteIn
from .completed_part import CompletedPart
from .confirm_in import ConfirmIn
from .confirmed import Confirmed
from .credentials import Credentials
from .crumb import Crumb
from .download_out import DownloadOut
from .email_in import EmailIn
from .error_body import ErrorBody
from .error_body_details_type_0_item import ErrorBodyDetailsType0Item
from .error_envelope import ErrorEnvelope
from .export_activity_export_get_format import ExportActivityExportGetFormat
from .file_create import FileCreate
from .file_created import FileCreated
from .file_list import FileList
from .file_out import FileOut
from .file_out_status import FileOutStatus
from .file_patch import FilePatch
from .file_status_list import FileStatusList
from .file_status_out import FileStatusOut
from .file_status_out_status import FileStatusOutStatus
from .folder_create import FolderCreate
from .folder_detail import FolderDetail
from .folder_detail_pending_op_type_0 import FolderDetailPendingOpType0
from .folder_detail_status import FolderDetailStatus
from .folder_item import FolderItem
from .folder_item_kind import FolderItemKind
from .folder_items import FolderItems
from .folder_op_out import FolderOpOut
from .folder_op_out_op import FolderOpOutOp
from .folder_out import FolderOut
from .folder_out_pending_op_type_0 import FolderOutPendingOpType0
from .folder_out_status import FolderOutStatus
from .folder_patch import FolderPatch
from .folder_share_list import FolderShareList
from .folder_share_out import FolderShareOut
from .health_health_get_return import HealthHealthGetReturn
from .link_in import LinkIn
from .link_list import LinkList
from .link_out import LinkOut
from .me import Me
from .multipart_upload import MultipartUpload
from .notification_list import NotificationList
from .notification_out import NotificationOut
from .openapi_openapi_json_get_response_200 import OpenapiOpenapiJsonGetResponse200
from .part_url import PartUrl
from .part_url_headers_type_0 import PartUrlHeadersType0
from .part_url_list import PartUrlList
from .parts_in import PartsIn
from .post_upload import PostUpload
from .post_upload_fields import PostUploadFields
from .refresh_in import RefreshIn
from .reset_in import ResetIn
from .share_in import ShareIn
from .share_list import ShareList
from .share_out import ShareOut
from .stored_part import StoredPart
from .stored_part_list import StoredPartList
from .tokens import Tokens
from .trash_list import TrashList
from .trashed_file_out import TrashedFileOut
from .trashed_file_out_status import TrashedFileOutStatus
from .user_created import UserCreated
from .version_create import VersionCreate
from .version_created import VersionCreated
from .version_list import VersionList
from .version_out import VersionOut
from .version_out_status import VersionOutStatus

__all__ = (
    "Accepted",
    "ActivityClient",
    "ActivityList",
    "ActivityOut",
    "ActivityOutAction",
    "ActivityOutDetails",
    "ArchiveCreate",
    "ArchiveList",
    "ArchiveOut",
    "ArchiveOutStatus",
    "BatchCreate",
    "BatchCreated",
    "BatchItem",
    "CompleteIn",
    "CompletedPart",
    "ConfirmIn",
    "Confirmed",
    "Credentials",
    "Crumb",
    "DownloadOut",
    "EmailIn",
    "ErrorBody",
    "ErrorBodyDetailsType0Item",
    "ErrorEnvelope",
    "ExportActivityExportGetFormat",
    "FileCreate",
    "FileCreated",
    "FileList",
    "FileOut",
    "FileOutStatus",
    "FilePatch",
    "FileStatusList",
    "FileStatusOut",
    "FileStatusOutStatus",
    "FolderCreate",
    "FolderDetail",
    "FolderDetailPendingOpType0",
    "FolderDetailStatus",
    "FolderItem",
    "FolderItemKind",
    "FolderItems",
    "FolderOpOut",
    "FolderOpOutOp",
    "FolderOut",
    "FolderOutPendingOpType0",
    "FolderOutStatus",
    "FolderPatch",
    "FolderShareList",
    "FolderShareOut",
    "HealthHealthGetReturn",
    "LinkIn",
    "LinkList",
    "LinkOut",
    "Me",
    "MultipartUpload",
    "NotificationList",
    "NotificationOut",
    "OpenapiOpenapiJsonGetResponse200",
    "PartUrl",
    "PartUrlHeadersType0",
    "PartUrlList",
    "PartsIn",
    "PostUpload",
    "PostUploadFields",
    "RefreshIn",
    "ResetIn",
    "ShareIn",
    "ShareList",
    "ShareOut",
    "StoredPart",
    "StoredPartList",
    "Tokens",
    "TrashList",
    "TrashedFileOut",
    "TrashedFileOutStatus",
    "UserCreated",
    "VersionCreate",
    "VersionCreated",
    "VersionList",
    "VersionOut",
    "VersionOutStatus",
)
