"""Fileshare's local stack: `python localstack/manage.py up|down|status|env|logs|reset`."""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "layers" / "shared" / "python"))
sys.path.append(str(Path(__file__).resolve().parents[1]))  # infra.declaration (queues to provision)

from stackctl import apt, proc, stack
from stackctl.paths import DATA_DIR, LOG_DIR, RUN_DIR, STACK_ENV_FILE, TEST_ENV_FILE


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    for name in ("up", "down", "status"):
        sub = commands.add_parser(name)
        sub.add_argument("--only", help="comma-separated service names")
    env = commands.add_parser("env", help="print the stack's environment (KEY=VALUE lines)")
    env.add_argument("--test", action="store_true", help="the test namespace's (.local/test.env)")
    logs = commands.add_parser("logs", help="print the tail of each service's log")
    logs.add_argument("service", nargs="?")
    logs.add_argument("-n", type=int, default=40)
    commands.add_parser("reset", help="stop everything and delete data, logs and state (keeps downloads)")
    packages = commands.add_parser("apt", help="install Debian packages if missing")
    packages.add_argument("packages", nargs="+")
    args = parser.parse_args()
    only = args.only.split(",") if getattr(args, "only", None) else None

    try:
        if args.command == "up":
            started = time.monotonic()
            if not only:  # before the bootstrap runs: its calls are checked against its role too
                from lambdarun.iam import roles

                print(f"iam: roles of the synthesized dev stage in {roles.ensure()}", flush=True)
            for outcome in stack.up(only):
                print(stack.status_line(outcome.service, outcome.how, outcome.seconds), flush=True)
            if not only:
                for name, result in stack.last_bootstrap.items():
                    print(f"{name}: {result.get('Data')}", flush=True)
            if not only:
                from lambdarun.environment import load_env_file
                from stackctl import consistency

                for line in consistency.describe(consistency.check(load_env_file(STACK_ENV_FILE))):
                    print(line, flush=True)
            print(f"stack ready in {time.monotonic() - started:.1f}s; environment in "
                  f"{STACK_ENV_FILE} (tests: {TEST_ENV_FILE})", flush=True)
        elif args.command == "down":
            stopped = stack.down(only)
            print(f"stopped: {', '.join(stopped) if stopped else 'nothing was running'}")
        elif args.command == "status":
            for service in stack.select(only):
                print(stack.status_line(service))
            from stackctl import consistency

            for line in consistency.describe(consistency.last_report()):
                print(f"{line} (at the last `make up`)")
        elif args.command == "env":
            path = TEST_ENV_FILE if args.test else STACK_ENV_FILE
            sys.stdout.write(path.read_text() if path.exists() else "")
        elif args.command == "logs":
            for log in sorted(LOG_DIR.glob(f"{args.service or '*'}.log")):
                print(f"==> {log} <==")
                print("\n".join(log.read_text(errors="replace").splitlines()[-args.n:]))
        elif args.command == "reset":
            stack.down()
            for directory in (DATA_DIR, LOG_DIR, RUN_DIR):
                shutil.rmtree(directory, ignore_errors=True)
            STACK_ENV_FILE.unlink(missing_ok=True)
            TEST_ENV_FILE.unlink(missing_ok=True)
            print("stack reset: data, logs and state removed (downloads kept in .local/cache)")
        elif args.command == "apt":
            apt.ensure(args.packages)
    except proc.StackError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
