"""Authentication: a server started with IMAGEGEN_AUTH_TOKEN; the token never shows."""

from __future__ import annotations

import pytest

from imagegen_client import SERVING, Client, RpcError, StatusCode, frame_pb2

TOKEN = "s3cret-token-Zq9"


@pytest.fixture
def auth_server(start_server):
    return start_server(token=TOKEN)


def test_no_token(auth_server, monkeypatch) -> None:
    monkeypatch.delenv("IMAGEGEN_AUTH_TOKEN", raising=False)
    with Client(auth_server.host, auth_server.port) as client:
        assert not client.has_token
        with pytest.raises(RpcError) as info:
            client.health()
        assert info.value.code == StatusCode.UNAUTHENTICATED
        with pytest.raises(RpcError) as info:
            list(client.server_stream("test.v1.Test/Count", frame_pb2.CallStatus(code=3), frame_pb2.CallStatus))
        assert info.value.code == StatusCode.UNAUTHENTICATED


def test_wrong_token(auth_server) -> None:
    with auth_server.client(token="wrong-" + TOKEN) as client:
        with pytest.raises(RpcError) as info:
            client.health()
        assert info.value.code == StatusCode.UNAUTHENTICATED
        assert TOKEN not in str(info.value) and TOKEN not in repr(info.value)


def test_right_token(auth_server) -> None:
    with auth_server.client(token=TOKEN) as client:
        assert client.health() == SERVING
        reply = client.unary("test.v1.Test/Echo", frame_pb2.CallStatus(message="ok"), frame_pb2.CallStatus)
        assert reply.message == "ok"


def test_token_from_environment(auth_server, monkeypatch) -> None:
    monkeypatch.setenv("IMAGEGEN_AUTH_TOKEN", TOKEN)
    with Client(auth_server.host, auth_server.port) as client:
        assert client.has_token
        assert client.health() == SERVING
        assert TOKEN not in repr(client)


def test_token_never_shown(auth_server) -> None:
    with auth_server.client(token=TOKEN) as client:
        for text in (repr(client), str(client), repr(client.connection), f"{client}"):
            assert TOKEN not in text
        with pytest.raises(RpcError) as info:
            client.unary("test.v1.Test/Fail", frame_pb2.CallStatus(code=5, message="nope"), frame_pb2.CallStatus)
        assert TOKEN not in str(info.value) and TOKEN not in repr(info.value)
        with pytest.raises(RpcError) as info:
            client.unary("test.v1.Test/Sleep", frame_pb2.CallStatus(code=5000), frame_pb2.CallStatus, timeout=0.1)
        assert TOKEN not in str(info.value)
    with pytest.raises(RpcError) as info:
        client.health()  # closed
    assert TOKEN not in str(info.value)
