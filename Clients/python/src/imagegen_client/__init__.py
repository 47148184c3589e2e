"""Python client for imagegen: renders video storyboards into images, over imagegen's RPC protocol
(length-prefixed protobuf frames over TCP with gRPC semantics; see Proto/README.md).

>>> from imagegen_client import Client
>>> with Client("127.0.0.1", 7420) as client:
...     for event in client.start_generation("projects/demo", "storyboard.json"):
...         print(event)

:class:`AsyncClient` is the same client for asyncio (``async with``, ``async for``, ``await``).
"""

from ._state import Phase
from ._transport import DEFAULT_MAX_FRAME_BYTES, Call, Status, Transport
from .aio import AsyncClient, AsyncResponseStream
from .client import DEADLINE_GRACE, GENERATION_SERVICE, HEALTH_CHECK, Client, Methods, ResponseStream
from .errors import RpcError, StatusCode, StoryboardError
from .proto import frame_pb2, generation_pb2, health_pb2
from .proto.generation_pb2 import JobStatus, ProgressEvent, Storyboard
from .storyboard import TRANSITIONS, load_storyboard, storyboard_to_dict

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING

__version__ = "0.1.0"

__all__ = [
    "Client", "ResponseStream", "AsyncClient", "AsyncResponseStream", "Phase", "Methods", "RpcError", "StatusCode", "StoryboardError",
    "load_storyboard", "storyboard_to_dict", "TRANSITIONS", "Transport", "Call", "Status",
    "DEFAULT_MAX_FRAME_BYTES", "DEADLINE_GRACE", "HEALTH_CHECK", "GENERATION_SERVICE",
    "SERVING", "NOT_SERVING", "JobStatus", "ProgressEvent", "Storyboard",
    "frame_pb2", "generation_pb2", "health_pb2", "__version__",
]
