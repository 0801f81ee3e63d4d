"""Exit codes by class of failure, and the errors that carry them.

Scripts branch on the class, not on the message: every failure maps to exactly one code below
(``fileshare --help`` prints the table), and with ``--json`` the API's machine-readable error code
is printed too.
"""

from __future__ import annotations

from enum import IntEnum


class Exit(IntEnum):
    OK = 0
    USAGE = 2  # bad arguments, or input the API refused as invalid (400, 415, 422)
    AUTH = 3  # not logged in, wrong password, expired session, forbidden (401, 403)
    NOT_FOUND = 4  # no such file, link or upload, or not yours (404, 410)
    CONFLICT = 5  # the state forbids it, or a limit or quota was reached (409, 413, 429)
    SERVER = 6  # the API or storage failed or answered what it does not document (5xx), network, a
    # transfer whose bytes do not match
    INTERRUPTED = 130  # Ctrl-C; an upload keeps its state and resumes when run again


EXIT_HELP = "\n".join([
    "Exit codes:",
    "  0    success",
    "  2    usage: bad arguments, or input the API refused as invalid (400, 415, 422)",
    "  3    auth: not logged in, wrong password, session expired, forbidden (401, 403)",
    "  4    not found: no such file, link or upload, or not yours (404, 410)",
    "  5    conflict or limit: wrong state, quota, size or rate limit (409, 413, 429)",
    "  6    server: the API or storage failed, the network, or bytes that do not match (5xx)",
    "  130  interrupted (an unfinished upload resumes when run again)",
])


class CliError(Exception):
    """A failure the command reports and exits with: ``code`` is the class, ``error`` the API's code."""

    exit_code: Exit = Exit.SERVER

    def __init__(self, message: str, *, error: str = "error", status: int | None = None,
                 exit_code: Exit | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.error = error
        self.status = status
        if exit_code is not None:
            self.exit_code = exit_code

    def as_dict(self) -> dict[str, object]:
        body: dict[str, object] = {"code": self.error, "message": self.message,
                                   "exit_code": int(self.exit_code)}
        if self.status is not None:
            body["status"] = self.status
        return {"error": body}


def exit_for_status(status: int) -> Exit:
    """The exit class of an HTTP error status."""
    if status in (401, 403):
        return Exit.AUTH
    if status in (404, 410):
        return Exit.NOT_FOUND
    if status in (409, 413, 429):
        return Exit.CONFLICT
    if 400 <= status < 500:
        return Exit.USAGE
    return Exit.SERVER


class ApiError(CliError):
    """The API answered with an error status (its ``{"error": {"code", "message"}}`` envelope)."""

    def __init__(self, status: int, error: str, message: str) -> None:
        super().__init__(message, error=error, status=status, exit_code=exit_for_status(status))


class NotLoggedInError(CliError):
    exit_code = Exit.AUTH

    def __init__(self, api: str) -> None:
        super().__init__(f"not logged in to {api}: run `fileshare login`", error="not_logged_in")


class TransferError(CliError):
    """S3 refused bytes, or what arrived is not what was announced."""

    exit_code = Exit.SERVER
