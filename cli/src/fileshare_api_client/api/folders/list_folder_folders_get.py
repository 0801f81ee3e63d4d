from http import HTTPStatus
from typing import Any
from uuid import UUID

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error_envelope import ErrorEnvelope
from ...models.folder_items import FolderItems
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    folder_id: None | Unset | UUID = UNSET,
    shared: bool | Unset = False,
    trashed: bool | Unset = False,
    limit: int | Unset = 50,
    cursor: None | str | Unset = UNSET,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    json_folder_id: None | str | Unset
    if isinstance(folder_id, Unset):
        json_folder_id = UNSET
    elif isinstance(folder_id, UUID):
        json_folder_id = str(folder_id)
    else:
        json_folder_id = folder_id
    params["folder_id"] = json_folder_id

    params["shared"] = shared

    params["trashed"] = trashed

    params["limit"] = limit

    json_cursor: None | str | Unset
    if isinstance(cursor, Unset):
        json_cursor = UNSET
    else:
        json_cursor = cursor
    params["cursor"] = json_cursor

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/folders",
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> ErrorEnvelope | FolderItems | None:
    if response.status_code == 200:
        response_200 = FolderItems.from_dict(response.json())

        return response_200

    if response.status_code == 401:
        response_401 = ErrorEnvelope.from_dict(response.json())

        return response_401

    if response.status_code == 404:
        response_404 = ErrorEnvelope.from_dict(response.json())

        return response_404

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
) -> Response[ErrorEnvelope | FolderItems]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    folder_id: None | Unset | UUID = UNSET,
    shared: bool | Unset = False,
    trashed: bool | Unset = False,
    limit: int | Unset = 50,
    cursor: None | str | Unset = UNSET,
) -> Response[ErrorEnvelope | FolderItems]:
    """List a folder (with its breadcrumbs): subfolders, then files, by name; or, with shared=true, the
    folders shared with me; with trashed=true, my trashed folders

    Args:
        folder_id (None | Unset | UUID): the folder (default: my root)
        shared (bool | Unset): list the folders shared with me instead Default: False.
        trashed (bool | Unset): list my folders in the trash instead Default: False.
        limit (int | Unset):  Default: 50.
        cursor (None | str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorEnvelope | FolderItems]
    """

    kwargs = _get_kwargs(
        folder_id=folder_id,
        shared=shared,
        trashed=trashed,
        limit=limit,
        cursor=cursor,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient,
    folder_id: None | Unset | UUID = UNSET,
    shared: bool | Unset = False,
    trashed: bool | Unset = False,
    limit: int | Unset = 50,
    cursor: None | str | Unset = UNSET,
) -> ErrorEnvelope | FolderItems | None:
    """List a folder (with its breadcrumbs): subfolders, then files, by name; or, with shared=true, the
    folders shared with me; with trashed=true, my trashed folders

    Args:
        folder_id (None | Unset | UUID): the folder (default: my root)
        shared (bool | Unset): list the folders shared with me instead Default: False.
        trashed (bool | Unset): list my folders in the trash instead Default: False.
        limit (int | Unset):  Default: 50.
        cursor (None | str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorEnvelope | FolderItems
    """

    return sync_detailed(
        client=client,
        folder_id=folder_id,
        shared=shared,
        trashed=trashed,
        limit=limit,
        cursor=cursor,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    folder_id: None | Unset | UUID = UNSET,
    shared: bool | Unset = False,
    trashed: bool | Unset = False,
    limit: int | Unset = 50,
    cursor: None | str | Unset = UNSET,
) -> Response[ErrorEnvelope | FolderItems]:
    """List a folder (with its breadcrumbs): subfolders, then files, by name; or, with shared=true, the
    folders shared with me; with trashed=true, my trashed folders

    Args:
        folder_id (None | Unset | UUID): the folder (default: my root)
        shared (bool | Unset): list the folders shared with me instead Default: False.
        trashed (bool | Unset): list my folders in the trash instead Default: False.
        limit (int | Unset):  Default: 50.
        cursor (None | str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorEnvelope | FolderItems]
    """

    kwargs = _get_kwargs(
        folder_id=folder_id,
        shared=shared,
        trashed=trashed,
        limit=limit,
        cursor=cursor,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    folder_id: None | Unset | UUID = UNSET,
    shared: bool | Unset = False,
    trashed: bool | Unset = False,
    limit: int | Unset = 50,
    cursor: None | str | Unset = UNSET,
) -> ErrorEnvelope | FolderItems | None:
    """List a folder (with its breadcrumbs): subfolders, then files, by name; or, with shared=true, the
    folders shared with me; with trashed=true, my trashed folders

    Args:
        folder_id (None | Unset | UUID): the folder (default: my root)
        shared (bool | Unset): list the folders shared with me instead Default: False.
        trashed (bool | Unset): list my folders in the trash instead Default: False.
        limit (int | Unset):  Default: 50.
        cursor (None | str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorEnvelope | FolderItems
    """

    return (
        await asyncio_detailed(
            client=client,
            folder_id=folder_id,
            shared=shared,
            trashed=trashed,
            limit=limit,
            cursor=cursor,
        )
    ).parsed
