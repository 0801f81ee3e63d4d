from enum import StrEnum


class ActivityOutAction(StrEnum):
    CONTENT_REPLACED = "content_replaced"
    DELETED = "deleted"
    EXPIRED = "expired"
    FOLDER_CREATED = "folder_created"
    FOLDER_MOVED = "folder_moved"
    FOLDER_RENAMED = "folder_renamed"
    LINK_CREATED = "link_created"
    LINK_DOWNLOADED = "link_downloaded"
    LINK_REVOKED = "link_revoked"
    MOVED = "moved"
    RENAMED = "renamed"
    RESTORED = "restored"
    SHARED = "shared"
    SHARE_REVOKED = "share_revoked"
    TRASHED = "trashed"
    UPDATED = "updated"
    UPLOADED = "uploaded"
    UPLOAD_REJECTED = "upload_rejected"
    VERSION_ADDED = "version_added"
    VERSION_MADE_CURRENT = "version_made_current"
    VERSION_REJECTED = "version_rejected"

    def __str__(self) -> str:
        return str(self.value)
