"""Domain errors. One resolver-level handler maps them to HTTP; the domain never builds responses."""

from __future__ import annotations


class DomainError(Exception):
    """Base: a machine-readable ``code``, a human ``message`` and the HTTP status it maps to."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code


class ValidationFailed(DomainError):
    status, code = 422, "validation_failed"


class Unauthorized(DomainError):
    status, code = 401, "unauthorized"


class Forbidden(DomainError):
    status, code = 403, "forbidden"


class NotFound(DomainError):
    """Also what another user's file is: never a 403, never a leak."""

    status, code = 404, "not_found"


class Conflict(DomainError):
    status, code = 409, "conflict"


class Gone(DomainError):
    status, code = 410, "gone"


class TooLarge(DomainError):
    status, code = 413, "too_large"


class RateLimited(DomainError):
    status, code = 429, "rate_limited"

    def __init__(self, message: str, *, retry_after_s: int, code: str | None = None) -> None:
        super().__init__(message, code=code)
        self.retry_after_s = retry_after_s


class DependencyUnavailable(DomainError):
    """A backing service is down; callers retry (processing) or answer 503 (API)."""

    status, code = 503, "unavailable"
