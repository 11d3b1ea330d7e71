"""Real servers for a DuckLake, started and stopped by whoever uses them (the lake tests, the lake bench): a
throwaway PostgreSQL cluster (Debian's `postgresql` package: initdb in a temporary folder, pg_ctl on a free
loopback port, its unix socket in that folder) for the lake's catalog, and moto's S3 server (PyPI `moto[server]`)
for its data files. Nothing of the lake itself is mocked: DuckDB's ducklake, postgres_scanner and httpfs
extensions talk to both over the network as they would in production.
"""

from __future__ import annotations

import glob
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

PORTS = range(8950, 9000)
"""Loopback ports the test servers may take (a free one is picked at random, tried again when taken meanwhile)."""
USER = "shopkeep"
S3_KEYS = {
    "AWS_ACCESS_KEY_ID": "shopkeep-test",
    "AWS_SECRET_ACCESS_KEY": "shopkeep-test-secret",
    "AWS_REGION": "us-east-1",
}


def postgres_bin() -> Path | None:
    """The folder of PostgreSQL's server programs (initdb, pg_ctl, postgres), or None when not installed."""
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    debian = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    return Path(debian[-1]).parent if debian else None


def _free_port() -> int:
    for port in random.sample(list(PORTS), len(PORTS)):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free loopback port in {PORTS.start}-{PORTS.stop - 1}")


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
            port = _free_port()
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


@dataclass(frozen=True)
class S3:
    endpoint: str

    def create_bucket(self, name: str) -> None:
        request = urllib.request.Request(f"{self.endpoint}/{name}", method="PUT")
        with urllib.request.urlopen(request, timeout=30) as response:
            response.read()

    def keys(self, bucket: str) -> list[str]:
        """The object keys of `bucket` (the first 1,000)."""
        import xml.etree.ElementTree as ET

        with urllib.request.urlopen(f"{self.endpoint}/{bucket}?list-type=2", timeout=30) as response:
            tree = ET.fromstring(response.read())
        return [e.text or "" for e in tree.iter() if e.tag.endswith("}Key")]

    def environment(self) -> dict[str, str]:
        """The variables that point the warehouse's S3 secret at this server."""
        return {**S3_KEYS, "AWS_ENDPOINT_URL": self.endpoint}


@contextmanager
def s3_server(log: Path) -> Iterator[S3]:
    """moto's S3-compatible server on a free loopback port (state in memory, gone when it stops)."""
    for _attempt in range(5):
        port = _free_port()
        with open(log, "ab") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        endpoint = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and process.poll() is None:
            try:
                with urllib.request.urlopen(endpoint + "/", timeout=2):
                    break
            except OSError:
                time.sleep(0.2)
        if process.poll() is None:
            break
    else:
        raise RuntimeError(f"moto's S3 server did not start: {log.read_text(errors='replace')[-2000:]}")
    try:
        yield S3(endpoint)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def unique_name(prefix: str) -> str:
    """A database or bucket name no other test uses (lower case, letters, digits and dashes)."""
    return f"{prefix}-{uuid.uuid4().hex[:10]}"
