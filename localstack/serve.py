"""``make dev``: run Fileshare's functions locally behind the gateway, with pollers and schedules.

    .venv/bin/python localstack/serve.py [--host 127.0.0.1] [--port 8080] [--no-sources]

Loads ``.local/stack.env`` (the running stack's endpoints; the shell's variables win), starts the
API gateway (also serving ``web/``), the SQS/Kafka pollers and the schedules from
``infra/declaration.py``. Function workers start on first use (cold) and stay warm. Ctrl-C or
SIGTERM stops everything, worker processes included. Function logs: ``.local/logs/lambda/``.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from pathlib import Path
from types import FrameType
from urllib.parse import urlsplit

_HERE = Path(__file__).resolve().parent
for _path in (_HERE, _HERE.parent, _HERE.parent / "layers" / "shared" / "python"):  # + fileshare
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from fileshare.config import env_names  # noqa: E402
from lambdarun.auth import CognitoAuthorizer, CognitoSettings  # noqa: E402
from lambdarun.environment import load_env_file  # noqa: E402
from lambdarun.gateway import Gateway  # noqa: E402
from lambdarun.runtime import Runtime  # noqa: E402
from lambdarun.sockets import SocketGateway  # noqa: E402
from lambdarun.sources import EventSources  # noqa: E402
from stackctl.paths import STACK_ENV_FILE  # noqa: E402

log = logging.getLogger("lambdarun.serve")


def stack_environment(env_file: Path = STACK_ENV_FILE) -> dict[str, str]:
    """The stack env file overlaid with the shell's values for the same names, plus the shell's
    application settings (``RATE_LIMIT_PER_MINUTE=0 make dev``: every name ``fileshare.config``
    reads), which the functions get as Lambda would from their configuration."""
    values = load_env_file(env_file)
    merged = {key: os.environ.get(key, value) for key, value in values.items()}
    merged.update({name: os.environ[name] for name in env_names() if name in os.environ})
    return merged


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--host", default=os.environ.get("GATEWAY_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("GATEWAY_PORT", "8080")))
    parser.add_argument("--socket-port", type=int, default=None,
                        help="the WebSocket API's port (default: SOCKET_URL's, else the gateway's + 10)")
    parser.add_argument("--env-file", type=Path, default=STACK_ENV_FILE)
    parser.add_argument("--no-sources", action="store_true", help="gateway only: no pollers/schedules")
    parser.add_argument("--max-concurrency", type=int, default=4, help="workers per function")
    parser.add_argument("--log-level", default=os.environ.get("LOG_LEVEL", "INFO"))
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    if not args.env_file.exists():
        log.warning("%s not found: is the local stack up? (make up)", args.env_file)
    env = stack_environment(args.env_file)
    os.environ.update({k: v for k, v in env.items() if k not in os.environ})
    origins = {os.environ.get("WEB_ORIGIN", "http://localhost:8080"), "http://localhost:8080",
               "http://127.0.0.1:8080"}

    stop = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        log.info("%s: stopping", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)

    runtime = Runtime(base_env=env, max_concurrency=args.max_concurrency)
    sources: EventSources | None = None
    gateway: Gateway | None = None
    sockets: SocketGateway | None = None
    try:
        socket_port = args.socket_port or urlsplit(os.environ.get("SOCKET_URL", "")).port or args.port + 10
        sockets = SocketGateway(runtime, host=args.host, port=socket_port)
        sockets.start()
        log.info("WebSocket API on %s (@connections at %s/_ws/)", sockets.url, f"http://{args.host}:{args.port}")
        authorizer = CognitoAuthorizer(CognitoSettings.from_env(os.environ))
        if authorizer.settings is None:
            log.warning("no Cognito settings (COGNITO_JWKS_URL, USER_POOL_CLIENT_ID): protected routes"
                        " answer 401")
        gateway = Gateway(runtime, authorizer=authorizer, host=args.host, port=args.port, origins=origins,
                          env=os.environ, sockets=sockets)
        gateway.start()
        log.info("gateway on %s (%d routes, web page from %s)", gateway.url,
                 sum(len(fn.routes) for fn in runtime.functions.values()), gateway.web_dir)
        if not args.no_sources:
            sources = EventSources(runtime, os.environ)
            for name in sources.start():
                log.info("event source %s", name)
        log.info("ready; function logs in %s; Ctrl-C stops", runtime.log_dir)
        stop.wait()
    finally:
        if gateway is not None:
            gateway.close()
        if sockets is not None:
            sockets.close()
        if sources is not None:
            sources.stop()
        runtime.close()
        log.info("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
