"""The asyncio client against the REAL imagegen-server (offline renderer): a job streamed to the end,
detach and watch resume on another connection, and the typed unary methods (test_service.py for
the thread-based client)."""

from __future__ import annotations

import pytest

from aio_helpers import collect, raises, run
from conftest import BEATS, STORYBOARD, ProductServer
from imagegen_client import StatusCode
from imagegen_client.proto import generation_pb2


def test_start_streams_every_event_to_completion(product_server: ProductServer) -> None:
    async def body() -> None:
        async with product_server.async_client() as client:
            events = await collect(client.start_generation("film", STORYBOARD))
        assert [e.seq for e in events] == list(range(1, len(events) + 1))
        assert events[0].WhichOneof("kind") == "accepted"
        assert events[-1].finished.state == generation_pb2.COMPLETED
        assert [s.done for s in events[-1].finished.styles] == [BEATS] * 3
    run(body())


@pytest.mark.parametrize("product_server", [60], indirect=True)
def test_detach_then_watch_resume_loses_and_repeats_nothing(product_server: ProductServer) -> None:
    async def body() -> None:
        async with product_server.async_client() as client:
            seen = await collect(client.start_generation("film", STORYBOARD, detach=True))
            assert len(seen) == 1
            job_id = seen[0].job_id
            async for event in client.watch(job_id, after_seq=1):
                seen.append(event)
                if len(seen) >= 6:
                    break  # detaches: the job goes on
            async with product_server.async_client() as other:  # resume on another connection
                seen.extend(await collect(other.watch(job_id, after_seq=seen[-1].seq)))
        assert [e.seq for e in seen] == list(range(1, len(seen) + 1))
        assert seen[-1].finished.state == generation_pb2.COMPLETED
    run(body())


@pytest.mark.parametrize("product_server", [200], indirect=True)
def test_pause_resume_cancel_status_and_list(product_server: ProductServer) -> None:
    async def body() -> None:
        async with product_server.async_client() as client:
            job_id = (await collect(client.start_generation("film", STORYBOARD, detach=True)))[0].job_id
            assert (await client.pause(job_id)).state == generation_pb2.PAUSED
            assert (await client.get_status(job_id=job_id)).state == generation_pb2.PAUSED
            assert (await client.resume(job_id)).state == generation_pb2.RUNNING
            assert [job.job_id for job in await client.list_jobs()] == [job_id]
            assert (await client.cancel(job_id)).state == generation_pb2.CANCELLED
            await raises(StatusCode.FAILED_PRECONDITION, lambda: client.pause(job_id))
            with pytest.raises(ValueError):
                await client.get_status()
    run(body())
