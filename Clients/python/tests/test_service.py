"""The ImageGeneration service end to end: the Python client against the REAL imagegen-server
(offline renderer), with its own projects root in a temporary folder."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import List

import pytest

from conftest import BEATS, STORYBOARD, STYLES, ProductServer
from imagegen_client import RpcError, StatusCode, load_storyboard
from imagegen_client.proto import generation_pb2


def collect(stream) -> List[generation_pb2.ProgressEvent]:
    return list(stream)


def test_start_streams_every_event_in_order_to_completion(product_server: ProductServer) -> None:
    with product_server.client() as client:
        events = collect(client.start_generation("film", STORYBOARD))
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert events[0].WhichOneof("kind") == "accepted"
    assert [s.total for s in events[0].accepted.styles] == [BEATS] * 3
    assert events[-1].WhichOneof("kind") == "finished"
    assert events[-1].finished.state == generation_pb2.COMPLETED
    assert [s.done for s in events[-1].finished.styles] == [BEATS] * 3
    for style in STYLES:
        image = product_server.root / "film" / "generated_images" / style / "Shot_2" / "Beat_2.2.png"
        assert image.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("product_server", [60], indirect=True)
def test_detach_then_watch_loses_and_repeats_nothing(product_server: ProductServer) -> None:
    with product_server.client() as client:
        first = collect(client.start_generation("film", STORYBOARD, detach=True))
        assert len(first) == 1
        job_id = first[0].job_id
        seen = list(first)
        stream = client.watch(job_id, after_seq=1)
        for event in stream:
            seen.append(event)
            if len(seen) >= 6:
                stream.close()
                break
        seen.extend(collect(client.watch(job_id, after_seq=seen[-1].seq)))
    assert [e.seq for e in seen] == list(range(1, len(seen) + 1))
    assert seen[-1].finished.state == generation_pb2.COMPLETED


@pytest.mark.parametrize("product_server", [200], indirect=True)
def test_pause_resume_cancel_and_list(product_server: ProductServer) -> None:
    with product_server.client() as client:
        job_id = collect(client.start_generation("film", STORYBOARD, detach=True))[0].job_id
        assert client.pause(job_id).state == generation_pb2.PAUSED
        assert client.get_status(job_id=job_id).state == generation_pb2.PAUSED
        assert client.resume(job_id).state == generation_pb2.RUNNING
        assert [job.job_id for job in client.list_jobs()] == [job_id]
        cancelled = client.cancel(job_id)
        assert cancelled.state == generation_pb2.CANCELLED
        with pytest.raises(RpcError) as error:
            client.pause(job_id)
        assert error.value.code == StatusCode.FAILED_PRECONDITION


def test_status_from_disk_and_with_beats(product_server: ProductServer) -> None:
    (product_server.root / "film" / "storyboard.json").write_text(json.dumps(STORYBOARD))
    with product_server.client() as client:
        before = client.get_status(project_dir="film")
        assert before.job_id == ""
        assert [s.completed for s in before.styles] == [0, 0, 0]
        events = collect(client.start_generation("film"))  # the project's storyboard.json
        after = client.get_status(project_dir="film")
        assert after.state == generation_pb2.COMPLETED
        assert all(s.percent == 100 for s in after.styles)
        detailed = client.get_status(job_id=events[0].job_id, include_beats=True)
        assert len(detailed.beats) == BEATS * 3
        assert all(len(beat.sha256) == 64 for beat in detailed.beats)


@pytest.mark.parametrize("project_dir, code", [
    ("../outside", StatusCode.PERMISSION_DENIED),
    ("/etc", StatusCode.PERMISSION_DENIED),
    ("missing", StatusCode.NOT_FOUND),
])
def test_bad_projects_are_refused(product_server: ProductServer, project_dir: str, code: StatusCode) -> None:
    with product_server.client() as client:
        with pytest.raises(RpcError) as error:
            collect(client.start_generation(project_dir, STORYBOARD))
        assert error.value.code == code
        assert client.list_jobs() == []


def test_server_validates_storyboards_too(product_server: ProductServer) -> None:
    board = generation_pb2.Storyboard()
    shot = board.shots.add(id="1")
    shot.beats.add(id="1.1", prompt="fine")
    shot.beats.add(id="1/2", prompt="")  # a bad id and an empty prompt, sent raw past client checks
    with product_server.client() as client:
        with pytest.raises(RpcError) as error:
            collect(client.server_stream(
                "imagegen.v1.ImageGeneration/StartGeneration",
                generation_pb2.StartGenerationRequest(project_dir="film", storyboard=board),
                generation_pb2.ProgressEvent))
    assert error.value.code == StatusCode.INVALID_ARGUMENT
    assert "1/2" in error.value.message


@pytest.mark.parametrize("example", ["generate.py", "generate_async.py"])
def test_example_script_runs_a_job_to_the_end(product_server: ProductServer, tmp_path: Path, example: str) -> None:
    storyboard = tmp_path / "storyboard.json"
    storyboard.write_text(json.dumps(STORYBOARD))
    script = Path(__file__).resolve().parents[1] / "examples" / example
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1] / "src"))
    address = f"{product_server.process.host}:{product_server.process.port}"
    result = subprocess.run(
        [sys.executable, str(script), "--server", address, "--project", "film", str(storyboard)],
        capture_output=True, text=True, timeout=60, env=env)
    assert result.returncode == 0, result.stderr
    assert "clear" in result.stdout and f"{BEATS}/{BEATS}" in result.stdout


def test_delivery_reaches_the_server_and_offline_styles_go_online(product_server: ProductServer) -> None:
    with product_server.client() as client:
        events = collect(client.start_generation("film", STORYBOARD, delivery="batch", batch_deadline_seconds=30))
    assert events[-1].finished.state == generation_pb2.COMPLETED
    messages = [e.message for e in events if e.WhichOneof("kind") == "message"]
    assert any("has no Batch API" in m for m in messages), messages
    assert all(e.beat.state != generation_pb2.BeatEvent.IN_BATCH for e in events if e.WhichOneof("kind") == "beat")


@pytest.mark.parametrize("delivery, deadline, expected", [
    ("later", 0, "delivery: must be 'online', 'batch' or 'auto'"),
    ("Batch", 0, "delivery: must be"),
    ("batch", -1, "batch_deadline_seconds: must be a finite number"),
    ("batch", float("nan"), "batch_deadline_seconds: must be a finite number"),
    ("batch", float("inf"), "batch_deadline_seconds: must be a finite number"),
])
def test_bad_lane_options_are_refused_before_sending(
        product_server: ProductServer, delivery: str, deadline: float, expected: str) -> None:
    with product_server.client() as client:
        with pytest.raises(ValueError, match=expected.replace("(", r"\(")):
            client.start_generation("film", STORYBOARD, delivery=delivery, batch_deadline_seconds=deadline)


@pytest.mark.parametrize("field, value, expected", [
    ("delivery", 7, "GenerationOptions.delivery"),
    ("batch_deadline_seconds", -3.0, "options.batch_deadline_seconds: must be a finite number of seconds"),
])
def test_the_server_refuses_bad_lane_options_naming_the_field(
        product_server: ProductServer, field: str, value: object, expected: str) -> None:
    request = generation_pb2.StartGenerationRequest(project_dir="film")
    request.storyboard.CopyFrom(load_storyboard(STORYBOARD))
    setattr(request.options, field, value)
    with product_server.client() as client:
        with pytest.raises(RpcError) as raised:
            collect(client.server_stream("imagegen.v1.ImageGeneration/StartGeneration", request,
                                         generation_pb2.ProgressEvent))
    assert raised.value.code == StatusCode.INVALID_ARGUMENT
    assert expected in raised.value.message
