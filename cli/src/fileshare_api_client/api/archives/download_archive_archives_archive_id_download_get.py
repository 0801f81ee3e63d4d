from http import HTTPStatus
from typing import Any
from urllib.parse import quote
from uuid import UUID

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.download_out import DownloadOut
from ...models.error_envelope import ErrorEnvelope
from ...types import Response


def _get_kwargs(
    archive_id: UUID,
) -> dict[str, Any]:

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/archives/{archive_id}/download".format(
            archive_id=quote(str(archive_id), safe=""),
        ),
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> DownloadOut | ErrorEnvelope | None:
    if response.status_code == 200:
        response_200 = DownloadOut.from_dict(response.json())

        return response_200

    if response.status_code == 401:
        response_401 = ErrorEnvelope.from_dict(response.json())

        return response_401

    if response.status_code == 404:
        response_404 = ErrorEnvelope.from_dict(response.json())

        return response_404

    if response.status_code == 409:
        response_409 = ErrorEnvelope.from_dict(response.json())

        return response_409

    if response.status_code == 410:
        response_410 = ErrorEnvelope.from_dict(response.json())

        return response_410

    if response.status_code == 422:
        response_422 = ErrorEnvelope.from_dict(response.json())

        return response_422

    if response.status_code == 429:
        response_429 = ErrorEnvelope.from_dict(response.json())

        return response_429

    if response.status_code == 503:
        response_503 = ErrorEnvelope.from_dict(response.json())

        return response_503

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[DownloadOut | ErrorEnvelope]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    archive_id: UUID,
    *,
    client: AuthenticatedClient,
) -> Response[DownloadOut | ErrorEnvelope]:
    """A short-lived download URL of a ready archive

    Args:
        archive_id (UUID): the archive's id

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[DownloadOut | ErrorEnvelope]
    """

    kwargs = _get_kwargs(
        archive_id=archive_id,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    archive_id: UUID,
    *,
    client: AuthenticatedClient,
) -> DownloadOut | ErrorEnvelope | None:
    """A short-lived download URL of a ready archive

    Args:
        archive_id (UUID): the archive's id

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        DownloadOut | ErrorEnvelope
    """

    return sync_detailed(
        archive_id=archive_id,
        client=client,
    ).parsed


async def asyncio_detailed(
    archive_id: UUID,
    *,
    client: AuthenticatedClient,
) -> Response[DownloadOut | ErrorEnvelope]:
    """A short-lived download URL of a ready archive

    Args:
        archive_id (UUID): the archive's id

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[DownloadOut | ErrorEnvelope]
    """

    kwargs = _get_kwargs(
        archive_id=archive_id,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    archive_id: UUID,
    *,
    client: AuthenticatedClient,
) -> DownloadOut | ErrorEnvelope | None:
    """A short-lived download URL of a ready archive

    Args:
        archive_id (UUID): the archive's id

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        DownloadOut | ErrorEnvelope
    """

    return (
        await asyncio_detailed(
            archive_id=archive_id,
            client=client,
        )
    ).parsed
