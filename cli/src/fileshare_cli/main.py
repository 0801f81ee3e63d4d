"""The ``fileshare`` command: parse, call the API through ``api.Api``, print for people or ``--json``."""

from __future__ import annotations

import os
import re
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn
from uuid import UUID

import click

from fileshare_api_client.api.account import get_me_me_get
from fileshare_api_client.api.files import get_file_files_file_id_get, trash_file_files_file_id_delete
from fileshare_api_client.api.folders import list_folder_folders_get
from fileshare_api_client.api.links import create_link_files_file_id_links_post
from fileshare_api_client.api.search import search_files_search_get
from fileshare_api_client.api.sharing import (
    share_file_files_file_id_shares_post,
    shared_with_me_shared_with_me_get,
)
from fileshare_api_client.api.trash import list_trash_trash_get
from fileshare_api_client.models import FileOut, FolderItem, LinkIn, ShareIn
from fileshare_api_client.types import UNSET, Unset
from fileshare_cli import __version__, api, config, transfer
from fileshare_cli.errors import EXIT_HELP, CliError, Exit
from fileshare_cli.output import emit_json, human_size, stderr, stdout, table

PASSWORD_ENV = "FILESHARE_PASSWORD"  # noqa: S105 (the variable's name)
WAIT_POLL_S = 1.0
EPILOG = f"""\b
{EXIT_HELP}

\b
The API: --api, else ${config.API_ENV}, else the one saved by `fileshare login --api URL`
(`make dev` prints the local one; the web app's /config.json names it as "api", empty for its own origin).
Sessions are kept in {config.config_dir()}/sessions.json (mode 0600), unfinished
uploads in {config.state_dir()}/uploads.
"""


@dataclass
class Context:
    api_option: str | None
    json: bool
    progress: bool

    @property
    def base_url(self) -> str:
        return config.resolve_api(self.api_option)

    def api(self) -> api.Api:
        return api.Api(self.base_url)


_current: Context | None = None  # for the error printer in main()


def _cx(ctx: click.Context) -> Context:
    obj: Context = ctx.ensure_object(Context)
    return obj


@click.group(epilog=EPILOG,
             context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("--api", "api_option", metavar="URL",
              help=f"API base URL (default: ${config.API_ENV} or the saved one)")
@click.option("--json", "as_json", is_flag=True, help="print results (and errors, on stderr) as JSON")
@click.option("--no-progress", is_flag=True,
              help="no progress bars (they are only drawn on a terminal anyway)")
@click.version_option(__version__, prog_name="fileshare")
@click.pass_context
def cli(ctx: click.Context, api_option: str | None, as_json: bool, no_progress: bool) -> None:
    """Fileshare from a terminal: upload (large files in parallel parts, resumable), download, list,
    search, share, link and trash files."""
    global _current
    ctx.obj = _current = Context(api_option, as_json, not no_progress and not as_json)


# --- account --------------------------------------------------------------------------------------


def _password(from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline().rstrip("\r\n")
        if not line:
            raise CliError("no password on standard input", error="no_password", exit_code=Exit.USAGE)
        return line
    if os.environ.get(PASSWORD_ENV):
        return os.environ[PASSWORD_ENV]
    if not sys.stdin.isatty():
        raise CliError(f"no password: use --password-stdin or ${PASSWORD_ENV}", error="no_password",
                       exit_code=Exit.USAGE)
    return str(click.prompt("Password", hide_input=True, err=True))


@cli.command()
@click.option("--email", prompt=True, help="the account's email address")
@click.option("--password-stdin", is_flag=True,
              help=f"read the password from stdin (else ${PASSWORD_ENV}, else a prompt)")
@click.pass_context
def login(ctx: click.Context, email: str, password_stdin: bool) -> None:
    """Log in (the API's /auth/login); the session is kept and refreshed until `logout`."""
    cx = _cx(ctx)
    base = cx.base_url
    session = api.login(base, email, _password(password_stdin))
    config.save_default_api(base)
    if cx.json:
        emit_json({"api": base, "email": session.email, "expires_at": session.expires_at})
    else:
        stdout.print(f"logged in to {base} as {session.email}")


@cli.command()
@click.pass_context
def logout(ctx: click.Context) -> None:
    """End the session: the refresh token is revoked and the local copy removed."""
    cx = _cx(ctx)
    done = api.logout(cx.base_url)
    if cx.json:
        emit_json({"logged_out": done})
    else:
        stdout.print("logged out" if done else "not logged in")


@cli.command()
@click.pass_context
def whoami(ctx: click.Context) -> None:
    """The account, its quota and what it uses."""
    cx = _cx(ctx)
    me = cx.api().call(get_me_me_get)
    if cx.json:
        emit_json(me.to_dict())
    else:
        stdout.print(f"{me.email}  {human_size(me.used_bytes)} of {human_size(me.quota_bytes)} used")


# --- listing --------------------------------------------------------------------------------------


def _file_row(file: FileOut) -> list[Any]:
    return ["file", file.file_id, file.name, human_size(file.size), file.status,
            f"{file.created_at:%Y-%m-%d %H:%M}"]


def _pages(fetch: Any, every: bool) -> Iterator[Any]:
    cursor: str | Unset = UNSET
    while True:
        page = fetch(cursor)
        yield page
        if not every or not isinstance(page.next_cursor, str):
            return
        cursor = page.next_cursor


def _emit_list(cx: Context, items: list[Any], rows: list[list[Any]], next_cursor: str | None) -> None:
    if cx.json:
        emit_json({"items": [i.to_dict() for i in items], "next_cursor": next_cursor})
        return
    table(["kind", "id", "name", "size", "status", "created"], rows)
    if next_cursor:
        stderr.print("more: --all lists everything")


@cli.command(name="ls")
@click.option("--folder", type=click.UUID, help="list this folder (default: my root)")
@click.option("--shared", is_flag=True, help="the files shared with me instead")
@click.option("--limit", type=click.IntRange(1, 100), default=50, show_default=True)
@click.option("--all", "every", is_flag=True, help="follow the cursor to the end")
@click.pass_context
def ls(ctx: click.Context, folder: UUID | None, shared: bool, limit: int, every: bool) -> None:
    """List my files and folders (folders first), or the files shared with me."""
    cx = _cx(ctx)
    session = cx.api()
    items: list[Any] = []
    rows: list[list[Any]] = []
    cursor: str | None = None
    if shared:
        for page in _pages(lambda c: session.call(shared_with_me_shared_with_me_get, limit=limit, cursor=c),
                           every):
            items += page.items
            rows += [_file_row(f) for f in page.items]
            cursor = page.next_cursor if isinstance(page.next_cursor, str) else None
        return _emit_list(cx, items, rows, cursor)
    for page in _pages(lambda c: session.call(list_folder_folders_get, folder_id=folder or UNSET, limit=limit,
                                               cursor=c), every):
        entry: FolderItem
        for entry in page.items:
            items.append(entry)
            if entry.file:
                rows.append(_file_row(entry.file))
            elif entry.folder:
                folder_out = entry.folder
                rows.append(["folder", folder_out.folder_id, folder_out.name + "/", "", folder_out.status,
                             f"{folder_out.created_at:%Y-%m-%d %H:%M}"])
        cursor = page.next_cursor if isinstance(page.next_cursor, str) else None
    return _emit_list(cx, items, rows, cursor)


@cli.command()
@click.argument("query", required=False)
@click.option("--type", "type_", help="a category (image, document, ...) or an exact content type")
@click.option("--tag")
@click.option("--limit", type=click.IntRange(1, 100), default=20, show_default=True)
@click.pass_context
def search(ctx: click.Context, query: str | None, type_: str | None, tag: str | None, limit: int) -> None:
    """Search my files and those shared with me (words, or the start of a name)."""
    cx = _cx(ctx)
    page = cx.api().call(search_files_search_get, q=query or UNSET, type_=type_ or UNSET, tag=tag or UNSET,
                         limit=limit)
    _emit_list(cx, page.items, [_file_row(f) for f in page.items],
               page.next_cursor if isinstance(page.next_cursor, str) else None)


# --- transfers ------------------------------------------------------------------------------------


def _wait_processed(session: api.Api, file: FileOut, timeout_s: float) -> FileOut:
    deadline = time.monotonic() + timeout_s
    while file.status == "pending":
        if time.monotonic() > deadline:
            raise CliError(f"still processing after {timeout_s:.0f} s", error="processing_timeout")
        time.sleep(WAIT_POLL_S)
        file = session.call(get_file_files_file_id_get, file.file_id)
    if file.status == "rejected":
        raise CliError("the file was rejected by processing", error="rejected", exit_code=Exit.CONFLICT)
    return file


@cli.command()
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--name", help="the name to store (default: the file's)")
@click.option("--content-type", help="default: guessed from the name")
@click.option("--tag", "tags", multiple=True, help="a tag (repeatable)")
@click.option("--folder", type=click.UUID, help="upload into this folder")
@click.option("--parallel", type=click.IntRange(1, 32), default=4, show_default=True,
              help="parts sent at once (multipart uploads)")
@click.option("--no-resume", is_flag=True,
              help="start anew even if an earlier run of this upload was interrupted")
@click.option("--wait", is_flag=True, help="wait until the file is processed (ready, or rejected: exit 5)")
@click.option("--wait-timeout", type=float, default=300.0, show_default=True, help="seconds")
@click.pass_context
def upload(ctx: click.Context, path: Path, name: str | None, content_type: str | None, tags: tuple[str, ...],
           folder: UUID | None, parallel: int, no_resume: bool, wait: bool, wait_timeout: float) -> None:
    """Upload a file straight to storage. Large files go in parallel parts; an interrupted upload
    continues where it stopped when the same command is run again."""
    cx = _cx(ctx)
    session = cx.api()
    result = transfer.upload(session, path, transfer.UploadOptions(
        name=name, content_type=content_type, tags=tags, folder_id=folder, parallel=parallel,
        resume=not no_resume, progress=cx.progress))
    if wait:
        result.file = _wait_processed(session, result.file, wait_timeout)
    if cx.json:
        emit_json(result.to_json())
        return
    how = "resumed, " if result.resumed else ""
    parts = (f" ({how}{result.parts_sent} of {result.parts_total} parts sent)"
             if result.method == "MULTIPART" else "")
    stdout.print(f"{result.file.file_id}  {result.file.name}  {human_size(result.file.size)}  "
                 f"{result.file.status}{parts}")


@cli.command()
@click.argument("file_id", type=click.UUID)
@click.option("-o", "--output", metavar="PATH", help="a file, a folder, or - for stdout (default: ./<name>)")
@click.option("--force", is_flag=True, help="replace an existing file")
@click.pass_context
def download(ctx: click.Context, file_id: UUID, output: str | None, force: bool) -> None:
    """Download a file (streamed, size and SHA-256 checked before it is put in place)."""
    cx = _cx(ctx)
    result = transfer.download(cx.api(), file_id, output, force=force, progress=cx.progress)
    if cx.json:
        emit_json(result.to_json())
    elif result.path != "-":
        stdout.print(f"{result.path}  {human_size(result.size)}  sha256 {result.sha256}")


# --- sharing ----------------------------------------------------------------------------------


@cli.command()
@click.argument("file_id", type=click.UUID)
@click.argument("email")
@click.pass_context
def share(ctx: click.Context, file_id: UUID, email: str) -> None:
    """Share a file with a person (by their account's email), as a viewer."""
    cx = _cx(ctx)
    made = cx.api().call(share_file_files_file_id_shares_post, file_id, body=ShareIn(email=email))
    if cx.json:
        emit_json(made.to_dict())
    else:
        stdout.print(f"shared {made.file_id} with {made.email} ({made.permission}), share {made.share_id}")


DURATION = re.compile(r"^(\d+)([smhd]?)$")
UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def _seconds(value: str | None) -> int | None:
    if value is None:
        return None
    match = DURATION.match(value.strip())
    if not match:
        raise click.BadParameter(f"{value!r}: use seconds, or a number with s, m, h or d (e.g. 7d)")
    return int(match.group(1)) * UNITS[match.group(2)]


@cli.command()
@click.argument("file_id", type=click.UUID)
@click.option("--expires-in", metavar="DURATION", help="e.g. 3600, 90m, 12h, 7d (default: never)")
@click.option("--password-stdin", is_flag=True, help="protect the link with a password read from stdin")
@click.option("--max-downloads", type=click.IntRange(1, 1_000_000))
@click.pass_context
def link(ctx: click.Context, file_id: UUID, expires_in: str | None, password_stdin: bool,
         max_downloads: int | None) -> None:
    """Create a public link to a file (optional expiry, password and download limit)."""
    cx = _cx(ctx)
    seconds = _seconds(expires_in)
    body = LinkIn(expires_in=seconds if seconds is not None else UNSET,
                  password=_password(True) if password_stdin else UNSET,
                  max_downloads=max_downloads if max_downloads is not None else UNSET)
    made = cx.api().call(create_link_files_file_id_links_post, file_id, body=body)
    if cx.json:
        emit_json(made.to_dict())
    else:
        stdout.print(made.url if isinstance(made.url, str) else made.link_id)


@cli.command()
@click.argument("file_ids", nargs=-1, type=click.UUID)
@click.option("--list", "list_", is_flag=True, help="list what is in the trash instead")
@click.pass_context
def trash(ctx: click.Context, file_ids: tuple[UUID, ...], list_: bool) -> None:
    """Move files to the trash (restorable until they are purged), or list the trash."""
    cx = _cx(ctx)
    session = cx.api()
    if list_:
        page = session.call(list_trash_trash_get)
        rows = [["file", f.file_id, f.name, human_size(f.size), f"purged {f.purge_at:%Y-%m-%d}",
                 f"{f.created_at:%Y-%m-%d %H:%M}"] for f in page.items]
        return _emit_list(cx, page.items, rows,
                          page.next_cursor if isinstance(page.next_cursor, str) else None)
    if not file_ids:
        raise click.UsageError("give the ids of the files to trash, or --list")
    for file_id in file_ids:
        session.call(trash_file_files_file_id_delete, file_id)
    if cx.json:
        emit_json({"trashed": [str(f) for f in file_ids]})
    else:
        stdout.print(f"moved {len(file_ids)} file(s) to the trash")
    return None


# --- entry point ----------------------------------------------------------------------------------


def _fail(error: CliError) -> NoReturn:
    if _current is not None and _current.json:
        import json

        sys.stderr.write(json.dumps(error.as_dict()) + "\n")
    else:
        stderr.print(f"[red]error[/red] ({error.error}): {error.message}", highlight=False, markup=True)
    sys.exit(int(error.exit_code))


def main() -> NoReturn:
    try:
        cli.main(standalone_mode=False)
    except CliError as exc:
        _fail(exc)
    except click.ClickException as exc:  # usage: bad options or arguments
        exc.show()
        sys.exit(Exit.USAGE)
    except (KeyboardInterrupt, click.Abort):
        stderr.print("interrupted (run the same upload again to resume it)")
        sys.exit(Exit.INTERRUPTED)
    sys.exit(Exit.OK)
