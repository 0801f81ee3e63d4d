"""Local Cognito: moto's server (cognito-idp only is used) on a loopback port, until SIGTERM.

Run with the project venv: ``python localstack/cognito_server.py --port 4599``. moto keeps
everything in memory, so a restart loses the user pool; the stack's provision() recreates it.
``cognito_mail`` adds what moto lacks: codes mailed through LocalStack's SES and checked.
"""

from __future__ import annotations

import argparse
import os
import signal
import threading
from pathlib import Path
from types import FrameType


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=4599)
    parser.add_argument("--ses-endpoint", default="http://localhost:4566",
                        help="where Cognito's mail goes (LocalStack's SES)")
    parser.add_argument("--sender", default="no-reply@fileshare.local", help="the pool's From address")
    parser.add_argument("--region", default="us-east-1")
    parser.add_argument("--state-file", type=Path, help="keep the user pools here across restarts")
    args = parser.parse_args()
    os.environ.setdefault("MOTO_PORT", str(args.port))  # moto builds some self-URLs from it

    import cognito_mail  # beside this script: emailed, checked codes and Cognito-shaped tokens

    codes = cognito_mail.install(cognito_mail.Mailer(args.ses_endpoint, args.sender, args.region))
    state = None
    if args.state_file:
        import cognito_state

        state = cognito_state.StateFile(args.state_file, codes)
        print(f"restored {state.load()} user pool(s) from {args.state_file}", flush=True)

    from moto.server import ThreadedMotoServer

    stopping = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    server = ThreadedMotoServer(ip_address=args.host, port=args.port, verbose=False)
    server.start()
    if state is not None:
        state.start()
    print(f"moto server (cognito-idp) listening on {args.host}:{args.port}", flush=True)
    stopping.wait()
    server.stop()
    if state is not None:
        state.stop()  # the last snapshot, after the last request


if __name__ == "__main__":
    main()
