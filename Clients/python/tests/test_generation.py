"""The typed ImageGeneration methods and examples/generate.py, against a fake server that answers
like the real service will (the Swift service is not implemented yet; see test_interop.py for
the UNIMPLEMENTED answers of the real server)."""

from __future__ import annotations

import importlib
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Callable, List, Tuple

import pytest

from imagegen_client import Client, StatusCode, frame_pb2, generation_pb2 as g

from conftest import SRC
from fakeserver import FakeServer

Frame = frame_pb2.Frame
EXAMPLES_DIR = Path(__file__).resolve().parents[1] / "examples"
EXAMPLES = ["generate", "generate_async"]  # the thread-based and the asyncio client

Handler = Callable[[str, bytes], Tuple[List[bytes], int, str]]


class FakeService:
    """Answers every call on the fake server's connection with ``handler(method, request)``."""

    def __init__(self, fake: FakeServer, handler: Handler) -> None:
        self.fake = fake
        self.handler = handler
        self.calls: List[Tuple[str, bytes]] = []
        self.cancelled: List[int] = []
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            while True:
                frame = self.fake.read_frame()
                kind = frame.WhichOneof("kind")
                if kind == "cancel":
                    self.cancelled.append(frame.call_id)
                    continue
                if kind != "start":
                    continue
                self.calls.append((frame.start.method, frame.start.request))
                messages, code, text = self.handler(frame.start.method, frame.start.request)
                for message in messages:
                    self.fake.send(Frame(call_id=frame.call_id, message=message))
                if code >= 0:  # -1: leave the call open
                    self.fake.send(Frame(call_id=frame.call_id, status=frame_pb2.CallStatus(code=code, message=text)))
        except (EOFError, OSError):
            return


def job(job_id: str = "j1", state: int = g.RUNNING) -> g.JobStatus:
    return g.JobStatus(job_id=job_id, project_dir="demo", state=state, last_seq=7,
                       styles=[g.StyleProgress(style="ink", total=4, completed=2, percent=50.0)])


def events(job_id: str = "j1", final: int = g.COMPLETED_WITH_ERRORS) -> List[g.ProgressEvent]:
    return [
        g.ProgressEvent(seq=1, job_id=job_id, accepted=g.JobAccepted(
            styles=[g.StyleProgress(style="ink", total=2), g.StyleProgress(style="oil", total=2)])),
        g.ProgressEvent(seq=2, job_id=job_id, beat=g.BeatEvent(
            style="ink", shot_id="1", beat_id="1.1", state=g.BeatEvent.FAILED, error="blocked")),
        g.ProgressEvent(seq=3, job_id=job_id, style=g.StyleProgress(style="ink", total=2, completed=1, failed=1, percent=50.0)),
        g.ProgressEvent(seq=4, job_id=job_id, style=g.StyleProgress(style="oil", total=2, completed=2, percent=100.0)),
        g.ProgressEvent(seq=5, job_id=job_id, finished=g.JobFinished(state=final, styles=[
            g.StyleSummary(style="ink", total=2, done=1, failed=1), g.StyleSummary(style="oil", total=2, done=2)])),
    ]


def generation_handler(method: str, request: bytes):
    name = method.rsplit("/", 1)[-1]
    if name in ("StartGeneration", "WatchJob"):
        return [e.SerializeToString() for e in events()], 0, ""
    if name == "GetStatus":
        return [job().SerializeToString()], 0, ""
    if name in ("CancelGeneration", "PauseGeneration", "ResumeGeneration"):
        state = {"CancelGeneration": g.CANCELLED, "PauseGeneration": g.PAUSED, "ResumeGeneration": g.RUNNING}[name]
        job_id = g.JobRequest.FromString(request).job_id
        return [job(job_id, state).SerializeToString()], 0, ""
    if name == "ListJobs":
        return [g.ListJobsResponse(jobs=[job("a"), job("b", g.COMPLETED)]).SerializeToString()], 0, ""
    if name == "ListServers":
        server = g.ServerInfo(server_id="a", address="127.0.0.1:1", this_server=True, jobs=[g.ServerJob(job_id="j1", project_dir="p")])
        return [g.ListServersResponse(servers=[server, g.ServerInfo(server_id="b")], coordinated=True, coordination_problem="server id \"a\" not confirmed with the coordination database yet").SerializeToString()], 0, ""
    return [], StatusCode.UNIMPLEMENTED, f"unknown method {method}"


@pytest.fixture
def service():
    fake = FakeServer()
    client = Client("127.0.0.1", fake.port, token="")
    service = FakeService(fake, generation_handler)
    yield client, service
    client.close()
    fake.close()


def test_typed_methods(service) -> None:
    client, fake = service
    status = client.get_status(job_id="j1", include_beats=True)
    assert status.job_id == "j1" and status.styles[0].percent == 50.0
    request = g.GetStatusRequest.FromString(fake.calls[-1][1])
    assert fake.calls[-1][0] == "imagegen.v1.ImageGeneration/GetStatus"
    assert request.job_id == "j1" and request.include_beats
    assert client.cancel("x").state == g.CANCELLED
    assert client.pause("x").state == g.PAUSED
    assert client.resume("x").state == g.RUNNING
    assert [j.job_id for j in client.list_jobs()] == ["a", "b"]
    servers = client.list_servers()
    assert servers.coordinated and [s.server_id for s in servers.servers] == ["a", "b"]
    assert servers.coordination_problem == 'server id "a" not confirmed with the coordination database yet'
    assert servers.servers[0].this_server and servers.servers[0].jobs[0].project_dir == "p"
    stream = client.watch("j1", after_seq=3)
    assert [e.seq for e in stream] == [1, 2, 3, 4, 5]
    assert g.WatchJobRequest.FromString(fake.calls[-1][1]).after_seq == 3
    received = list(client.start_generation("demo", styles=["ink"], detach=True, request_id="k"))
    assert received[-1].finished.state == g.COMPLETED_WITH_ERRORS
    request = g.StartGenerationRequest.FromString(fake.calls[-1][1])
    assert not request.HasField("storyboard") and request.request_id == "k" and request.detach
    assert [m for m, _ in fake.calls] == [
        "imagegen.v1.ImageGeneration/" + n for n in
        ("GetStatus", "CancelGeneration", "PauseGeneration", "ResumeGeneration", "ListJobs", "ListServers", "WatchJob",
         "StartGeneration")]


def example_server() -> FakeServer:
    """A fake server for one connection of the example, answering like the real service."""
    fake = FakeServer()
    FakeService(fake, generation_handler)
    return fake


@pytest.mark.parametrize("example", EXAMPLES)
def test_example_prints_progress_and_fails_on_errors(tmp_path, capsys, example: str) -> None:
    sys.path.insert(0, str(EXAMPLES_DIR))
    try:
        generate = importlib.import_module(example)
    finally:
        sys.path.remove(str(EXAMPLES_DIR))
    storyboard = tmp_path / "sb.json"
    storyboard.write_text('{"shots": [{"id": "1", "beats": [{"id": "1.1", "prompt": "x"}]}]}')
    fake = example_server()
    try:
        code = generate.main(["--server", f"127.0.0.1:{fake.port}", "--project", "demo", str(storyboard)])
    finally:
        fake.close()
    out = capsys.readouterr().out
    assert code == 1  # completed with errors
    assert "started job j1" in out
    assert "ink: 1/2 (50.0%), 1 failed" in out
    assert "oil: 2/2 (100.0%)" in out
    assert "ink: beat 1/1.1 failed: blocked" in out
    assert "job j1 completed_with_errors" in out
    bad = tmp_path / "bad.json"
    bad.write_text('{"shots": [{"id": "1", "beats": [{"id": "1.1", "prompt": ""}]}]}')
    fake = example_server()
    try:
        assert generate.main(["--server", f"127.0.0.1:{fake.port}", "--project", "demo", str(bad)]) == 2
    finally:
        fake.close()
    assert "shot 1, beat 1.1: prompt is empty" in capsys.readouterr().err


@pytest.mark.parametrize("example", EXAMPLES)
def test_example_ctrl_c_detaches(tmp_path, example: str) -> None:
    fake = FakeServer()
    accepted = events()[0]
    service = FakeService(fake, lambda method, request: ([accepted.SerializeToString()], -1, ""))
    env = dict(os.environ, PYTHONPATH=str(SRC), PYTHONUNBUFFERED="1")
    env.pop("IMAGEGEN_AUTH_TOKEN", None)
    process = subprocess.Popen(
        [sys.executable, str(EXAMPLES_DIR / f"{example}.py"), "--server", f"127.0.0.1:{fake.port}", "--project", "demo"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        # as in a terminal: a test run started in the background (SIGINT ignored, inherited) must
        # not make the example ignore Ctrl-C too
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        assert process.stdout.readline().startswith("started job j1")
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=10)
        assert process.returncode == 130, err
        assert "--watch j1 --after-seq 1" in err
        deadline = time.monotonic() + 5
        while not service.cancelled and time.monotonic() < deadline:
            time.sleep(0.02)
        assert service.cancelled == [1]  # the call was cancelled: the client detached
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        fake.close()


@pytest.mark.parametrize("example", EXAMPLES)
def test_example_against_real_server_reports_unimplemented(server, example: str) -> None:
    env = dict(os.environ, PYTHONPATH=str(SRC))
    env.pop("IMAGEGEN_AUTH_TOKEN", None)
    result = subprocess.run(
        [sys.executable, str(EXAMPLES_DIR / f"{example}.py"), "--server", f"{server.host}:{server.port}", "--project", "demo"],
        capture_output=True, text=True, env=env, timeout=30)
    assert result.returncode == 2
    assert "UNIMPLEMENTED" in result.stderr
