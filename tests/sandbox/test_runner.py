"""The sandbox runner binds its port itself, so a busy machine's other sockets cannot take it before it listens."""

from __future__ import annotations

import socket

import httpx
import pytest

from sandbox.runner import SERVER_PORTS, free_port, start


async def hello(scope, receive, send):
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"hello"})


def test_servers_on_any_free_port_answer_at_once_and_give_their_port_back_when_stopped():
    servers = [start(hello, f"runner-{n}") for n in range(5)]
    try:
        assert len({server.url for server in servers}) == 5
        for server in servers:
            assert httpx.get(server.url, timeout=5).text == "hello"
    finally:
        for server in servers:
            server.stop()
    port = int(servers[0].url.rsplit(":", 1)[1])
    with socket.socket() as again:
        again.bind(("127.0.0.1", port))


def test_a_port_already_taken_is_refused_with_the_servers_name_and_port():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(RuntimeError, match=f"sandbox wms cannot listen on 127.0.0.1:{port}"):
            start(hello, "wms", port=port)


def test_ports_for_other_processes_lie_below_the_range_outgoing_connections_take_theirs_from():
    low, _high = map(int, open("/proc/sys/net/ipv4/ip_local_port_range").read().split())
    assert SERVER_PORTS.stop <= low
    ports = {free_port() for _ in range(20)}
    assert all(port in SERVER_PORTS for port in ports)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", ports.pop()))
