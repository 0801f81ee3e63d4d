from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.activity_list import ActivityList
from ...models.error_envelope import ErrorEnvelope
from ...models.export_activity_export_get_format import ExportActivityExportGetFormat
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    format_: ExportActivityExportGetFormat | Unset = ExportActivityExportGetFormat.JSON,
    limit: int | Unset = 500,
    cursor: None | str | Unset = UNSET,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    json_format_: str | Unset = UNSET
    if not isinstance(format_, Unset):
        json_format_ = format_.value

    params["format"] = json_format_

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
        "url": "/activity/export",
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> ActivityList | ErrorEnvelope | None:
    if response.status_code == 200:
        response_200 = ActivityList.from_dict(response.json())

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
) -> Response[ActivityList | ErrorEnvelope]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    format_: ExportActivityExportGetFormat | Unset = ExportActivityExportGetFormat.JSON,
    limit: int | Unset = 500,
    cursor: None | str | Unset = UNSET,
) -> Response[ActivityList | ErrorEnvelope]:
    """Export everything done to my files (JSON or CSV), oldest first

     A page at a time: pass the previous page's cursor (JSON: `next_cursor`; CSV: the `X-Next-Cursor`
    response header, absent on the last page). CSV cells that a spreadsheet would read as a formula are
    prefixed with an apostrophe.

    Args:
        format_ (ExportActivityExportGetFormat | Unset): json (default) or csv Default:
            ExportActivityExportGetFormat.JSON.
        limit (int | Unset):  Default: 500.
        cursor (None | str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ActivityList | ErrorEnvelope]
    """

    kwargs = _get_kwargs(
        format_=format_,
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
    format_: ExportActivityExportGetFormat | Unset = ExportActivityExportGetFormat.JSON,
    limit: int | Unset = 500,
    cursor: None | str | Unset = UNSET,
) -> ActivityList | ErrorEnvelope | None:
    """Export everything done to my files (JSON or CSV), oldest first

     A page at a time: pass the previous page's cursor (JSON: `next_cursor`; CSV: the `X-Next-Cursor`
    response header, absent on the last page). CSV cells that a spreadsheet would read as a formula are
    prefixed with an apostrophe.

    Args:
        format_ (ExportActivityExportGetFormat | Unset): json (default) or csv Default:
            ExportActivityExportGetFormat.JSON.
        limit (int | Unset):  Default: 500.
        cursor (None | str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ActivityList | ErrorEnvelope
    """

    return sync_detailed(
        client=client,
        format_=format_,
        limit=limit,
        cursor=cursor,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    format_: ExportActivityExportGetFormat | Unset = ExportActivityExportGetFormat.JSON,
    limit: int | Unset = 500,
    cursor: None | str | Unset = UNSET,
) -> Response[ActivityList | ErrorEnvelope]:
    """Export everything done to my files (JSON or CSV), oldest first

     A page at a time: pass the previous page's cursor (JSON: `next_cursor`; CSV: the `X-Next-Cursor`
    response header, absent on the last page). CSV cells that a spreadsheet would read as a formula are
    prefixed with an apostrophe.

    Args:
        format_ (ExportActivityExportGetFormat | Unset): json (default) or csv Default:
            ExportActivityExportGetFormat.JSON.
        limit (int | Unset):  Default: 500.
        cursor (None | str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ActivityList | ErrorEnvelope]
    """

    kwargs = _get_kwargs(
        format_=format_,
        limit=limit,
        cursor=cursor,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    format_: ExportActivityExportGetFormat | Unset = ExportActivityExportGetFormat.JSON,
    limit: int | Unset = 500,
    cursor: None | str | Unset = UNSET,
) -> ActivityList | ErrorEnvelope | None:
    """Export everything done to my files (JSON or CSV), oldest first

     A page at a time: pass the previous page's cursor (JSON: `next_cursor`; CSV: the `X-Next-Cursor`
    response header, absent on the last page). CSV cells that a spreadsheet would read as a formula are
    prefixed with an apostrophe.

    Args:
        format_ (ExportActivityExportGetFormat | Unset): json (default) or csv Default:
            ExportActivityExportGetFormat.JSON.
        limit (int | Unset):  Default: 500.
        cursor (None | str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ActivityList | ErrorEnvelope
    """

    return (
        await asyncio_detailed(
            client=client,
            format_=format_,
            limit=limit,
            cursor=cursor,
        )
    ).parsed
