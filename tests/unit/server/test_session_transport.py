"""serve's side of a PutMedia session: chunks read as they come, a stalled producer cut off, acks as chunks."""

from __future__ import annotations

import io
import socket
import time
from io import BufferedReader

import pytest

from stillframe.errors import SessionInterrupted
from stillframe.server import wire
from stillframe.server.session import MediaSession


@pytest.fixture
def pair():
    server, client = socket.socketpair()
    yield server, client
    server.close()
    client.close()


def session_over(server: socket.socket, idle_s: float) -> tuple[MediaSession, io.BytesIO]:
    reader = wire.DeadlineReader(server)
    written = io.BytesIO()
    return MediaSession(
        BufferedReader(reader), written, reader, headers=[("x-amzn-RequestId", "r")], idle_timeout_s=idle_s
    ), written


def test_chunks_arrive_one_by_one_and_the_body_ends_properly(pair) -> None:
    server, client = pair
    session, _ = session_over(server, idle_s=5)
    client.sendall(b"3\r\nabc\r\n")
    chunks = session.chunks()
    # The first chunk is there before the producer sends the second
    assert next(chunks) == b"abc"
    client.sendall(b"2\r\nde\r\n0\r\n\r\n")
    assert list(chunks) == [b"de"] and session.body_complete


def test_a_producer_silent_for_the_idle_timeout_is_cut_off(pair) -> None:
    server, client = pair
    session, _ = session_over(server, idle_s=0.3)
    client.sendall(b"3\r\nabc\r\n")
    chunks = session.chunks()
    assert next(chunks) == b"abc"
    started = time.monotonic()
    with pytest.raises(SessionInterrupted, match="without finishing its body"):
        next(chunks)
    assert time.monotonic() - started < 5 and not session.body_complete


def test_a_connection_closed_mid_body_is_an_interruption_not_an_end(pair) -> None:
    server, client = pair
    session, _ = session_over(server, idle_s=5)
    client.sendall(b"3\r\nabc\r\n5\r\nde")
    client.shutdown(socket.SHUT_WR)
    with pytest.raises(SessionInterrupted):
        list(session.chunks())


def test_acks_go_out_as_chunks_after_one_200(pair) -> None:
    server, _ = pair
    session, written = session_over(server, idle_s=5)
    session.send(b'{"EventType":"BUFFERING","FragmentTimecode":1}\n')
    session.send(b'{"EventType":"RECEIVED","FragmentTimecode":1}\n')
    session.finish()
    text = written.getvalue().decode()
    assert text.startswith("HTTP/1.1 200 OK\r\n") and text.count("HTTP/1.1") == 1
    assert "Transfer-Encoding: chunked" in text and "x-amzn-RequestId: r" in text
    assert text.endswith('\r\n2e\r\n{"EventType":"RECEIVED","FragmentTimecode":1}\n\r\n0\r\n\r\n')
