"""Real servers for a DuckLake, started and stopped by whoever uses them (the lake tests, the lake bench): a
throwaway PostgreSQL cluster for the lake's catalog (orchestration/local_postgres.py, which `shopkeep demo --lake`
uses too), and moto's S3 server (PyPI `moto[server]`) for its data files. Nothing of the lake itself is mocked:
DuckDB's ducklake, postgres_scanner and httpfs extensions talk to both over the network as they would in
production.
"""

from __future__ import annotations

import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from orchestration.local_postgres import USER, Postgres, free_port, postgres, postgres_bin

__all__ = ["USER", "Postgres", "S3", "postgres", "postgres_bin", "s3_server", "unique_name"]

S3_KEYS = {
    "AWS_ACCESS_KEY_ID": "shopkeep-test",
    "AWS_SECRET_ACCESS_KEY": "shopkeep-test-secret",
    "AWS_REGION": "us-east-1",
}


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
        port = free_port()
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
