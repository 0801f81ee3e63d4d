"""Install missing Debian packages (the machine is Debian; CI starts from a fresh one)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterable

from stackctl import proc


def missing(packages: Iterable[str]) -> list[str]:
    absent = []
    for package in sorted(set(packages)):
        result = subprocess.run(["dpkg-query", "-W", "-f=${Status}", package],
                                capture_output=True, text=True, check=False)
        if "install ok installed" not in result.stdout:
            absent.append(package)
    return absent


def ensure(packages: Iterable[str]) -> list[str]:
    """Install whichever of ``packages`` are absent; return what was installed."""
    absent = missing(packages)
    if not absent:
        return []
    if os.geteuid() != 0:
        raise proc.StackError(f"missing Debian packages {absent}; install them with "
                              f"`sudo apt-get install {' '.join(absent)}` or run as root")
    print(f"installing Debian packages: {' '.join(absent)}", flush=True)
    env = {"DEBIAN_FRONTEND": "noninteractive"}
    proc.run(["apt-get", "update", "-qq"], env=env)
    proc.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", *absent], env=env)
    return absent
