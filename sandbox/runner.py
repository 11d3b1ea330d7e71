"""Run sandbox ASGI apps on loopback in background threads (tests, `shopkeep sandbox`, `make demo`)."""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass

import uvicorn

from orchestration import local_postgres

# Ports handed to servers that another process binds later (streamlit): below the kernel's
# ephemeral range (32768-60999 by default), from which outgoing connections take their local ports, so a busy
# test run's HTTP clients cannot take one between our check and the server's bind.
SERVER_PORTS = range(20000, 32000)
START_DEADLINE_S = 60


@dataclass
class RunningServer:
    name: str
    url: str
    server: uvicorn.Server
    thread: threading.Thread
    sock: socket.socket

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.sock.close()


def free_port() -> int:
    """A loopback port in SERVER_PORTS that is free now, for a server started in another process."""
    return local_postgres.free_port(SERVER_PORTS)


def start(app, name: str, port: int | None = None, host: str = "127.0.0.1") -> RunningServer:
    """Start `app` on host:port (any free port when None) and return once it accepts connections.

    The socket is bound here and handed to uvicorn, so no other process can take the port in between."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port or 0))
    except OSError as error:
        sock.close()
        raise RuntimeError(
            f"sandbox {name} cannot listen on {host}:{port}: {error.strerror} (is another one running?)"
        ) from error
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False, lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name=f"sandbox-{name}", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + START_DEADLINE_S
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            sock.close()
            raise RuntimeError(f"sandbox {name} did not start on {host}:{port}")
        time.sleep(0.02)
    return RunningServer(name=name, url=f"http://{host}:{port}", server=server, thread=thread, sock=sock)
