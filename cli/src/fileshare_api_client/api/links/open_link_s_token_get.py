from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error_envelope import ErrorEnvelope
from ...types import UNSET, Response, Unset


def _get_kwargs(
    token: str,
    *,
    download: bool | Unset = False,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    params["download"] = download

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/s/{token}".format(
            token=quote(str(token), safe=""),
        ),
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Any | ErrorEnvelope | str | None:
    if response.status_code == 200:
        response_200 = cast(str, response.json())
        return response_200

    if response.status_code == 302:
        response_302 = cast(Any, None)
        return response_302

    if response.status_code == 401:
        response_401 = ErrorEnvelope.from_dict(response.json())

        return response_401

    if response.status_code == 404:
        response_404 = ErrorEnvelope.from_dict(response.json())

        return response_404

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
) -> Response[Any | ErrorEnvelope | str]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    token: str,
    *,
    client: AuthenticatedClient | Client,
    download: bool | Unset = False,
) -> Response[Any | ErrorEnvelope | str]:
    """Open a public link (no login; password in X-Link-Password)

     A browser (Accept: text/html) without `download` gets an HTML page that counts nothing. `download=1`
    with Accept: application/json answers 200 {"url"}; any other request answers 302 to the presigned
    download. Both of those count one download.

    Args:
        token (str):
        download (bool | Unset): 1: download now (counts one download) Default: False.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Any | ErrorEnvelope | str]
    """

    kwargs = _get_kwargs(
        token=token,
        download=download,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    token: str,
    *,
    client: AuthenticatedClient | Client,
    download: bool | Unset = False,
) -> Any | ErrorEnvelope | str | None:
    """Open a public link (no login; password in X-Link-Password)

     A browser (Accept: text/html) without `download` gets an HTML page that counts nothing. `download=1`
    with Accept: application/json answers 200 {"url"}; any other request answers 302 to the presigned
    download. Both of those count one download.

    Args:
        token (str):
        download (bool | Unset): 1: download now (counts one download) Default: False.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Any | ErrorEnvelope | str
    """

    return sync_detailed(
        token=token,
        client=client,
        download=download,
    ).parsed


async def asyncio_detailed(
    token: str,
    *,
    client: AuthenticatedClient | Client,
    download: bool | Unset = False,
) -> Response[Any | ErrorEnvelope | str]:
    """Open a public link (no login; password in X-Link-Password)

     A browser (Accept: text/html) without `download` gets an HTML page that counts nothing. `download=1`
    with Accept: application/json answers 200 {"url"}; any other request answers 302 to the presigned
    download. Both of those count one download.

    Args:
        token (str):
        download (bool | Unset): 1: download now (counts one download) Default: False.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Any | ErrorEnvelope | str]
    """

    kwargs = _get_kwargs(
        token=token,
        download=download,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    token: str,
    *,
    client: AuthenticatedClient | Client,
    download: bool | Unset = False,
) -> Any | ErrorEnvelope | str | None:
    """Open a public link (no login; password in X-Link-Password)

     A browser (Accept: text/html) without `download` gets an HTML page that counts nothing. `download=1`
    with Accept: application/json answers 200 {"url"}; any other request answers 302 to the presigned
    download. Both of those count one download.

    Args:
        token (str):
        download (bool | Unset): 1: download now (counts one download) Default: False.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Any | ErrorEnvelope | str
    """

    return (
        await asyncio_detailed(
            token=token,
            client=client,
            download=download,
        )
    ).parsed
