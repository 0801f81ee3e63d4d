from http import HTTPStatus
from typing import Any
from uuid import UUID

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error_envelope import ErrorEnvelope
from ...models.file_status_list import FileStatusList
from ...types import UNSET, Response


def _get_kwargs(
    *,
    file_id: list[UUID],
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    json_file_id = []
    for file_id_item_data in file_id:
        file_id_item = str(file_id_item_data)
        json_file_id.append(file_id_item)

    params["file_id"] = json_file_id

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/files/status",
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> ErrorEnvelope | FileStatusList | None:
    if response.status_code == 200:
        response_200 = FileStatusList.from_dict(response.json())

        return response_200

    if response.status_code == 401:
        response_401 = ErrorEnvelope.from_dict(response.json())

        return response_401

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
) -> Response[ErrorEnvelope | FileStatusList]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    file_id: list[UUID],
) -> Response[ErrorEnvelope | FileStatusList]:
    """The status of many of my files at once (uploads being checked)

    Args:
        file_id (list[UUID]): a file id; repeat for more

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorEnvelope | FileStatusList]
    """

    kwargs = _get_kwargs(
        file_id=file_id,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient,
    file_id: list[UUID],
) -> ErrorEnvelope | FileStatusList | None:
    """The status of many of my files at once (uploads being checked)

    Args:
        file_id (list[UUID]): a file id; repeat for more

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorEnvelope | FileStatusList
    """

    return sync_detailed(
        client=client,
        file_id=file_id,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    file_id: list[UUID],
) -> Response[ErrorEnvelope | FileStatusList]:
    """The status of many of my files at once (uploads being checked)

    Args:
        file_id (list[UUID]): a file id; repeat for more

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorEnvelope | FileStatusList]
    """

    kwargs = _get_kwargs(
        file_id=file_id,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    file_id: list[UUID],
) -> ErrorEnvelope | FileStatusList | None:
    """The status of many of my files at once (uploads being checked)

    Args:
        file_id (list[UUID]): a file id; repeat for more

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorEnvelope | FileStatusList
    """

    return (
        await asyncio_detailed(
            client=client,
            file_id=file_id,
        )
    ).parsed
