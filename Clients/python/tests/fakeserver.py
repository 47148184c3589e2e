"""A scripted fake imagegen server for transport and example tests."""

from __future__ import annotations

import socket
import struct
import threading
from typing import Optional

from imagegen_client import frame_pb2

Frame = frame_pb2.Frame


class FakeServer:
    """Accepts one connection; the test drives it frame by frame."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.conn = None
        self._accepted = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        try:
            self.conn, _ = self.listener.accept()
            self.conn.settimeout(5)
        except OSError:
            return
        self._accepted.set()

    def connected(self) -> socket.socket:
        assert self._accepted.wait(5)
        return self.conn

    def read_frame(self) -> Frame:
        conn = self.connected()
        header = self._exact(conn, 4)
        (length,) = struct.unpack(">I", header)
        return Frame.FromString(self._exact(conn, length))

    @staticmethod
    def _exact(conn: socket.socket, n: int) -> bytes:
        data = b""
        while len(data) < n:
            chunk = conn.recv(n - len(data))
            if not chunk:
                raise EOFError
            data += chunk
        return data

    def send(self, frame: Frame) -> None:
        self.send_raw(frame.SerializeToString())

    def send_raw(self, body: bytes, length: Optional[int] = None) -> None:
        self.connected().sendall(struct.pack(">I", len(body) if length is None else length) + body)

    def close(self) -> None:
        if self.conn is not None:
            try:
                self.conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self.conn.close()
        self.listener.close()
