from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.batch_create import BatchCreate
from ...models.batch_created import BatchCreated
from ...models.error_envelope import ErrorEnvelope
from ...types import Response


def _get_kwargs(
    *,
    body: BatchCreate,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/files/batch",
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> BatchCreated | ErrorEnvelope | None:
    if response.status_code == 200:
        response_200 = BatchCreated.from_dict(response.json())

        return response_200

    if response.status_code == 400:
        response_400 = ErrorEnvelope.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = ErrorEnvelope.from_dict(response.json())

        return response_401

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
) -> Response[BatchCreated | ErrorEnvelope]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    body: BatchCreate,
) -> Response[BatchCreated | ErrorEnvelope]:
    """Start up to 500 uploads at once

    Args:
        body (BatchCreate): Many uploads started at once, each entry exactly what ``POST /files``
            takes. An entry that is
            malformed (its shape) refuses the whole request with 422; an entry that breaks a rule
            needing
            the server (quota, name, size, type, folder) gets its own error and the others go on.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[BatchCreated | ErrorEnvelope]
    """

    kwargs = _get_kwargs(
        body=body,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient,
    body: BatchCreate,
) -> BatchCreated | ErrorEnvelope | None:
    """Start up to 500 uploads at once

    Args:
        body (BatchCreate): Many uploads started at once, each entry exactly what ``POST /files``
            takes. An entry that is
            malformed (its shape) refuses the whole request with 422; an entry that breaks a rule
            needing
            the server (quota, name, size, type, folder) gets its own error and the others go on.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        BatchCreated | ErrorEnvelope
    """

    return sync_detailed(
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    body: BatchCreate,
) -> Response[BatchCreated | ErrorEnvelope]:
    """Start up to 500 uploads at once

    Args:
        body (BatchCreate): Many uploads started at once, each entry exactly what ``POST /files``
            takes. An entry that is
            malformed (its shape) refuses the whole request with 422; an entry that breaks a rule
            needing
            the server (quota, name, size, type, folder) gets its own error and the others go on.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[BatchCreated | ErrorEnvelope]
    """

    kwargs = _get_kwargs(
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    body: BatchCreate,
) -> BatchCreated | ErrorEnvelope | None:
    """Start up to 500 uploads at once

    Args:
        body (BatchCreate): Many uploads started at once, each entry exactly what ``POST /files``
            takes. An entry that is
            malformed (its shape) refuses the whole request with 422; an entry that breaks a rule
            needing
            the server (quota, name, size, type, folder) gets its own error and the others go on.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        BatchCreated | ErrorEnvelope
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
        )
    ).parsed
