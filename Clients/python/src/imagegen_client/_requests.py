"""The typed methods of ``imagegen.v1.Health`` and ``imagegen.v1.ImageGeneration`` as requests:
the method name, the request message and the response type. :class:`~.client.Client` and
:class:`~.aio.AsyncClient` both build their calls here."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Generic, Iterable, Optional, Type

from google.protobuf.message import Message

from ._calls import M
from .proto import generation_pb2, health_pb2
from .storyboard import StoryboardSource, load_storyboard

__all__ = ["HEALTH_CHECK", "GENERATION_SERVICE", "Methods", "Request"]

HEALTH_CHECK = "imagegen.v1.Health/Check"
GENERATION_SERVICE = "imagegen.v1.ImageGeneration"

ProgressEvent = generation_pb2.ProgressEvent
JobStatus = generation_pb2.JobStatus


class Methods:
    """Full method names of ``imagegen.v1.ImageGeneration``."""

    START_GENERATION = f"{GENERATION_SERVICE}/StartGeneration"
    WATCH_JOB = f"{GENERATION_SERVICE}/WatchJob"
    GET_STATUS = f"{GENERATION_SERVICE}/GetStatus"
    CANCEL_GENERATION = f"{GENERATION_SERVICE}/CancelGeneration"
    PAUSE_GENERATION = f"{GENERATION_SERVICE}/PauseGeneration"
    RESUME_GENERATION = f"{GENERATION_SERVICE}/ResumeGeneration"
    LIST_JOBS = f"{GENERATION_SERVICE}/ListJobs"
    LIST_SERVERS = f"{GENERATION_SERVICE}/ListServers"

    ALL = (START_GENERATION, WATCH_JOB, GET_STATUS, CANCEL_GENERATION, PAUSE_GENERATION,
           RESUME_GENERATION, LIST_JOBS, LIST_SERVERS)


@dataclass(frozen=True)
class Request(Generic[M]):
    """One typed call: what to send where, and what comes back."""

    method: str
    message: Message
    response_type: Type[M]


def health(service: str) -> Request[health_pb2.HealthCheckResponse]:
    return Request(HEALTH_CHECK, health_pb2.HealthCheckRequest(service=service), health_pb2.HealthCheckResponse)


def start_generation(
    project_dir: str,
    storyboard: Optional[StoryboardSource],
    styles: Iterable[str],
    force: bool,
    max_concurrency: int,
    detach: bool,
    request_id: str,
    delivery: Optional[str] = None,
    batch_deadline_seconds: float = 0.0,
) -> Request[generation_pb2.ProgressEvent]:
    """``StartGeneration``; raises :class:`~.errors.StoryboardError` when the storyboard does not validate."""
    request = generation_pb2.StartGenerationRequest(
        project_dir=os.fspath(project_dir), detach=detach, request_id=request_id)
    if storyboard is not None:
        request.storyboard.CopyFrom(load_storyboard(storyboard))
    request.styles.extend([styles] if isinstance(styles, str) else styles)
    request.options.force = force
    request.options.max_concurrency = max_concurrency
    request.options.delivery = _delivery(delivery)
    if not (isinstance(batch_deadline_seconds, (int, float)) and math.isfinite(batch_deadline_seconds)
            and batch_deadline_seconds >= 0):
        raise ValueError(
            f"batch_deadline_seconds: must be a finite number of seconds >= 0, not {batch_deadline_seconds!r}")
    request.options.batch_deadline_seconds = float(batch_deadline_seconds)
    return Request(Methods.START_GENERATION, request, ProgressEvent)


_DELIVERIES = {
    None: generation_pb2.DELIVERY_UNSPECIFIED,
    "online": generation_pb2.ONLINE,
    "batch": generation_pb2.BATCH,
    "auto": generation_pb2.AUTO,
}


def _delivery(delivery: Optional[str]) -> "generation_pb2.Delivery":
    """The wire's ``Delivery`` for ``"online"``, ``"batch"``, ``"auto"`` or None."""
    if delivery not in _DELIVERIES:
        raise ValueError(f"delivery: must be 'online', 'batch' or 'auto', not {delivery!r}")
    return _DELIVERIES[delivery]


def watch(job_id: str, after_seq: int) -> Request[generation_pb2.ProgressEvent]:
    return Request(Methods.WATCH_JOB, generation_pb2.WatchJobRequest(job_id=job_id, after_seq=after_seq), ProgressEvent)


def get_status(job_id: Optional[str], project_dir: Optional[str], include_beats: bool) -> Request[generation_pb2.JobStatus]:
    """``GetStatus`` of a job or a project; raises ValueError unless exactly one is given."""
    request = generation_pb2.GetStatusRequest(include_beats=include_beats)
    if job_id is not None and project_dir is None:
        request.job_id = job_id
    elif project_dir is not None and job_id is None:
        request.project_dir = os.fspath(project_dir)
    else:
        raise ValueError("give exactly one of job_id and project_dir")
    return Request(Methods.GET_STATUS, request, JobStatus)


def job(method: str, job_id: str) -> Request[generation_pb2.JobStatus]:
    """``CancelGeneration``, ``PauseGeneration`` or ``ResumeGeneration`` of a job."""
    return Request(method, generation_pb2.JobRequest(job_id=job_id), JobStatus)


def list_jobs() -> Request[generation_pb2.ListJobsResponse]:
    return Request(Methods.LIST_JOBS, generation_pb2.ListJobsRequest(), generation_pb2.ListJobsResponse)


def list_servers() -> Request[generation_pb2.ListServersResponse]:
    return Request(Methods.LIST_SERVERS, generation_pb2.ListServersRequest(), generation_pb2.ListServersResponse)
