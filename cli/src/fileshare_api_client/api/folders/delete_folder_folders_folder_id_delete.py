from http import HTTPStatus
from typing import Any
from urllib.parse import quote
from uuid import UUID

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error_envelope import ErrorEnvelope
from ...models.folder_op_out import FolderOpOut
from ...types import UNSET, Response, Unset


def _get_kwargs(
    folder_id: UUID,
    *,
    permanent: bool | Unset = False,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    params["permanent"] = permanent

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "delete",
        "url": "/folders/{folder_id}".format(
            folder_id=quote(str(folder_id), safe=""),
        ),
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> ErrorEnvelope | FolderOpOut | None:
    if response.status_code == 200:
        response_200 = FolderOpOut.from_dict(response.json())

        return response_200

    if response.status_code == 202:
        response_202 = FolderOpOut.from_dict(response.json())

        return response_202

    if response.status_code == 401:
        response_401 = ErrorEnvelope.from_dict(response.json())

        return response_401

    if response.status_code == 404:
        response_404 = ErrorEnvelope.from_dict(response.json())

        return response_404

    if response.status_code == 409:
        response_409 = ErrorEnvelope.from_dict(response.json())

        return response_409

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
) -> Response[ErrorEnvelope | FolderOpOut]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    folder_id: UUID,
    *,
    client: AuthenticatedClient,
    permanent: bool | Unset = False,
) -> Response[ErrorEnvelope | FolderOpOut]:
    """Trash a folder and everything inside, or purge it from the trash

    Args:
        folder_id (UUID): the folder's id
        permanent (bool | Unset): delete a trashed folder for good Default: False.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorEnvelope | FolderOpOut]
    """

    kwargs = _get_kwargs(
        folder_id=folder_id,
        permanent=permanent,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    folder_id: UUID,
    *,
    client: AuthenticatedClient,
    permanent: bool | Unset = False,
) -> ErrorEnvelope | FolderOpOut | None:
    """Trash a folder and everything inside, or purge it from the trash

    Args:
        folder_id (UUID): the folder's id
        permanent (bool | Unset): delete a trashed folder for good Default: False.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorEnvelope | FolderOpOut
    """

    return sync_detailed(
        folder_id=folder_id,
        client=client,
        permanent=permanent,
    ).parsed


async def asyncio_detailed(
    folder_id: UUID,
    *,
    client: AuthenticatedClient,
    permanent: bool | Unset = False,
) -> Response[ErrorEnvelope | FolderOpOut]:
    """Trash a folder and everything inside, or purge it from the trash

    Args:
        folder_id (UUID): the folder's id
        permanent (bool | Unset): delete a trashed folder for good Default: False.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorEnvelope | FolderOpOut]
    """

    kwargs = _get_kwargs(
        folder_id=folder_id,
        permanent=permanent,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    folder_id: UUID,
    *,
    client: AuthenticatedClient,
    permanent: bool | Unset = False,
) -> ErrorEnvelope | FolderOpOut | None:
    """Trash a folder and everything inside, or purge it from the trash

    Args:
        folder_id (UUID): the folder's id
        permanent (bool | Unset): delete a trashed folder for good Default: False.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorEnvelope | FolderOpOut
    """

    return (
        await asyncio_detailed(
            folder_id=folder_id,
            client=client,
            permanent=permanent,
        )
    ).parsed
