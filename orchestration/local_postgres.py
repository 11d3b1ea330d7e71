"""A PostgreSQL server of its own, for a DuckLake catalog where no database server is given: a throwaway cluster
of Debian's `postgresql` package (initdb in a temporary folder, pg_ctl on a free loopback port, its unix socket in
that folder), removed when it stops. `shopkeep demo --lake` starts one; so do the lake tests and the lake bench
(through sandbox/lake_servers.py, beside moto's S3 server).
"""

from __future__ import annotations

import glob
import os
import random
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

PORTS = range(8950, 9000)
"""Loopback ports the servers may take (a free one is picked at random, tried again when taken meanwhile)."""
USER = "shopkeep"


def postgres_bin() -> Path | None:
    """The folder of PostgreSQL's server programs (initdb, pg_ctl, postgres), or None when not installed."""
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    debian = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    return Path(debian[-1]).parent if debian else None


def free_port(ports: range = PORTS) -> int:
    """A loopback port of `ports` that is free now, for a server another process starts on it (tried in random
    order; the caller tries again when it was taken meanwhile)."""
    for port in random.sample(ports, len(ports)):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free loopback port in {ports.start}-{ports.stop - 1}")


def _as_server_user() -> list[str]:
    """PostgreSQL refuses to run as root: as root, its programs run as Debian's `postgres` user."""
    return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


@dataclass(frozen=True)
class Postgres:
    bin: Path
    folder: Path
    port: int

    def url(self, database: str) -> str:
        return f"postgresql://{USER}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        subprocess.run(
            [str(self.bin / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", USER, name],
            check=True,
            capture_output=True,
        )
        return self.url(name)


@contextmanager
def postgres() -> Iterator[Postgres]:
    """A PostgreSQL cluster of its own (trust authentication on loopback, user `shopkeep`), removed afterwards."""
    bin_dir = postgres_bin()
    if bin_dir is None:
        raise RuntimeError("PostgreSQL's server programs are not installed (Debian package postgresql)")
    folder = Path(tempfile.mkdtemp(prefix="shopkeep-pg-"))
    runner = _as_server_user()
    if runner:
        shutil.chown(folder, "postgres", "postgres")
    data = folder / "data"
    subprocess.run(
        [*runner, str(bin_dir / "initdb"), "-D", str(data), "-U", USER, "--auth=trust", "-E", "UTF8"],
        check=True,
        capture_output=True,
    )
    port = None
    try:
        for _attempt in range(5):
            port = free_port()
            options = (
                f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off"
            )
            started = subprocess.run(
                [*runner, str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(folder / "server.log"), "-w",
                 "-t", "60", "-o", options, "start"],
                capture_output=True,
                text=True,
            )  # fmt: skip
            if started.returncode == 0:
                break
            port = None
        if port is None:
            log = (folder / "server.log").read_text(errors="replace")[-2000:]
            raise RuntimeError(f"PostgreSQL did not start: {started.stderr.strip()} {log}")
        yield Postgres(bin_dir, folder, port)
    finally:
        if port is not None:
            subprocess.run(
                [*runner, str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
                capture_output=True,
            )
        shutil.rmtree(folder, ignore_errors=True)
