from http import HTTPStatus
from typing import Any
from urllib.parse import quote
from uuid import UUID

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error_envelope import ErrorEnvelope
from ...models.part_url_list import PartUrlList
from ...models.parts_in import PartsIn
from ...types import Response


def _get_kwargs(
    file_id: UUID,
    version_id: UUID,
    *,
    body: PartsIn,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/files/{file_id}/versions/{version_id}/parts".format(
            file_id=quote(str(file_id), safe=""),
            version_id=quote(str(version_id), safe=""),
        ),
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> ErrorEnvelope | PartUrlList | None:
    if response.status_code == 200:
        response_200 = PartUrlList.from_dict(response.json())

        return response_200

    if response.status_code == 400:
        response_400 = ErrorEnvelope.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = ErrorEnvelope.from_dict(response.json())

        return response_401

    if response.status_code == 404:
        response_404 = ErrorEnvelope.from_dict(response.json())

        return response_404

    if response.status_code == 409:
        response_409 = ErrorEnvelope.from_dict(response.json())

        return response_409

    if response.status_code == 413:
        response_413 = ErrorEnvelope.from_dict(response.json())

        return response_413

    if response.status_code == 415:
        response_415 = ErrorEnvelope.from_dict(response.json())

        return response_415

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
) -> Response[ErrorEnvelope | PartUrlList]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    file_id: UUID,
    version_id: UUID,
    *,
    client: AuthenticatedClient,
    body: PartsIn,
) -> Response[ErrorEnvelope | PartUrlList]:
    """Sign more parts of a version's multipart upload

    Args:
        file_id (UUID): the file's id
        version_id (UUID): the version's id (the first upload's is the file's id)
        body (PartsIn):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorEnvelope | PartUrlList]
    """

    kwargs = _get_kwargs(
        file_id=file_id,
        version_id=version_id,
        body=body,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    file_id: UUID,
    version_id: UUID,
    *,
    client: AuthenticatedClient,
    body: PartsIn,
) -> ErrorEnvelope | PartUrlList | None:
    """Sign more parts of a version's multipart upload

    Args:
        file_id (UUID): the file's id
        version_id (UUID): the version's id (the first upload's is the file's id)
        body (PartsIn):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorEnvelope | PartUrlList
    """

    return sync_detailed(
        file_id=file_id,
        version_id=version_id,
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    file_id: UUID,
    version_id: UUID,
    *,
    client: AuthenticatedClient,
    body: PartsIn,
) -> Response[ErrorEnvelope | PartUrlList]:
    """Sign more parts of a version's multipart upload

    Args:
        file_id (UUID): the file's id
        version_id (UUID): the version's id (the first upload's is the file's id)
        body (PartsIn):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorEnvelope | PartUrlList]
    """

    kwargs = _get_kwargs(
        file_id=file_id,
        version_id=version_id,
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    file_id: UUID,
    version_id: UUID,
    *,
    client: AuthenticatedClient,
    body: PartsIn,
) -> ErrorEnvelope | PartUrlList | None:
    """Sign more parts of a version's multipart upload

    Args:
        file_id (UUID): the file's id
        version_id (UUID): the version's id (the first upload's is the file's id)
        body (PartsIn):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorEnvelope | PartUrlList
    """

    return (
        await asyncio_detailed(
            file_id=file_id,
            version_id=version_id,
            client=client,
            body=body,
        )
    ).parsed
