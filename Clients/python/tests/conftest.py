"""Fixtures: the REAL imagegen-interop-server, started on port 0 and stopped after the tests."""

from __future__ import annotations

import ctypes
import faulthandler
import json
import os
import queue
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import Iterator, List, Optional

import pytest

REPO_ROOT = Path(__file__).resolve().parents[3]
SRC = REPO_ROOT / "Clients" / "python" / "src"
if str(SRC) not in sys.path:
    sys.path.insert(0, str(SRC))  # test the worktree's code, installed or not

from imagegen_client import AsyncClient, Client  # noqa: E402

BIN_DIR = Path(os.environ.get("IMAGEGEN_BIN_DIR") or REPO_ROOT / ".build" / "debug")
SERVER_BIN = BIN_DIR / "imagegen-interop-server"

# the interop server's test methods (Sources/ImageGenInterop/InteropService.swift)
ECHO = "test.v1.Test/Echo"
LARGE = "test.v1.Test/Large"
COUNT = "test.v1.Test/Count"
SLEEP = "test.v1.Test/Sleep"
SLEEP_IGNORING = "test.v1.Test/SleepIgnoringCancellation"
FAIL = "test.v1.Test/Fail"
THROW_PLAIN = "test.v1.Test/ThrowPlain"
ONE_THEN_HANG = "test.v1.Test/OneThenHang"

PRODUCT_SERVER_BIN = BIN_DIR / "imagegen-server"


def _die_with_parent() -> None:  # pragma: no cover - runs in the child
    """Linux: the server gets SIGKILL if pytest dies, so a crashed run leaks no process."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, 9)  # PR_SET_PDEATHSIG, SIGKILL
    except Exception:
        pass


@pytest.fixture(autouse=True)
def _watchdog() -> Iterator[None]:
    """A hung test dumps every thread's stack and ends the run instead of hanging forever."""
    faulthandler.dump_traceback_later(120, exit=True)
    yield
    faulthandler.cancel_dump_traceback_later()


class ServerProcess:
    """A running imagegen-interop-server."""

    def __init__(self, *args: str, token: Optional[str] = None, binary: Path = SERVER_BIN) -> None:
        env = dict(os.environ)
        env.pop("IMAGEGEN_AUTH_TOKEN", None)
        for style in ("ILLUSTRATION", "CLEAR", "CONSISTENT"):
            env.pop(f"IMAGEGEN_KEYS_{style}", None)  # tests never spend real keys
        if token is not None:
            env["IMAGEGEN_AUTH_TOKEN"] = token
        self.log = tempfile.TemporaryFile()
        self.process = subprocess.Popen(
            [str(binary), "--listen", "127.0.0.1:0", "--log-level", "warning", *args],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=self.log, env=env,
            preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None)
        lines: "queue.Queue[str]" = queue.Queue()
        threading.Thread(target=lambda: lines.put(self.process.stdout.readline().decode()), daemon=True).start()
        try:
            line = lines.get(timeout=30)
        except queue.Empty:
            self.stop()
            raise RuntimeError(f"{binary.name} did not print 'listening on' within 30 s; log: {self.log_text()}")
        if not line.startswith("listening on "):
            self.stop()
            raise RuntimeError(f"{binary.name}: unexpected first line {line!r}; log: {self.log_text()}")
        address = line[len("listening on "):].strip()
        host, _, port = address.rpartition(":")
        self.host = host.strip("[]")
        self.port = int(port)

    def log_text(self) -> str:
        self.log.seek(0)
        return self.log.read().decode(errors="replace")

    def client(self, **options) -> Client:
        options.setdefault("token", "")
        return Client(self.host, self.port, **options)

    def async_client(self, **options) -> AsyncClient:
        options.setdefault("token", "")
        return AsyncClient(self.host, self.port, **options)

    def signal(self, number: int) -> None:
        self.process.send_signal(number)

    def wait(self, timeout: float = 15) -> int:
        return self.process.wait(timeout)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        if self.process.stdout:
            self.process.stdout.close()
        self.log.close()


def _require_binary() -> None:
    if not SERVER_BIN.is_file():
        pytest.skip(
            f"imagegen-interop-server not found at {SERVER_BIN}: build it with "
            "`swift build --product imagegen-interop-server` or set IMAGEGEN_BIN_DIR")


@pytest.fixture
def start_server() -> Iterator:
    """A factory: ``start_server("--max-frame-bytes", "1048576", token="t")``; every server it
    starts is stopped at the end of the test."""
    _require_binary()
    servers: List[ServerProcess] = []

    def start(*args: str, token: Optional[str] = None) -> ServerProcess:
        server = ServerProcess(*args, token=token)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture(scope="session")
def server() -> Iterator[ServerProcess]:
    """One server shared by the tests that do not disturb it (no token)."""
    _require_binary()
    process = ServerProcess()
    yield process
    process.stop()


@pytest.fixture
def client(server: ServerProcess) -> Iterator[Client]:
    with server.client() as c:
        yield c


STORYBOARD = {"shots": [
    {"id": "1", "beats": [
        {"id": "1.1", "prompt": "a lighthouse at dusk", "transition": "hard_cut"},
        {"id": "1.2", "prompt": "its beam sweeps the sea", "transition": "continue"},
        {"id": "1.3", "prompt": "a boat in the beam", "transition": "continue"}]},
    {"id": "2", "beats": [
        {"id": "2.1", "prompt": "a harbour at dawn", "transition": "hard_cut"},
        {"id": "2.2", "prompt": "gulls over the harbour", "transition": "cut"}]},
]}
BEATS = 5
STYLES = ["illustration", "clear", "consistent"]


class ProductServer:
    """imagegen-server over a temporary projects root with one project, "film"."""

    def __init__(self, base: Path, latency_ms: int) -> None:
        self.root = base / "projects"
        (self.root / "film").mkdir(parents=True)
        config = base / "config.json"
        config.write_text(json.dumps({"offline": {"latencyMilliseconds": latency_ms}}))
        self.process = ServerProcess(
            "--projects-root", str(self.root), "--state-dir", str(base / "state"), "--config", str(config),
            binary=PRODUCT_SERVER_BIN)

    def client(self) -> Client:
        return self.process.client()

    def async_client(self) -> AsyncClient:
        return self.process.async_client()


@pytest.fixture
def product_server(tmp_path: Path, request) -> Iterator[ProductServer]:
    if not PRODUCT_SERVER_BIN.is_file():
        pytest.skip(f"imagegen-server not found at {PRODUCT_SERVER_BIN}; build it with `swift build`")
    latency = getattr(request, "param", 5)
    server = ProductServer(tmp_path, latency)
    yield server
    server.process.stop()
