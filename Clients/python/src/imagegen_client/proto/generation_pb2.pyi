from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

AUTO: Delivery
BATCH: Delivery
CANCELLED: JobState
COMPLETED: JobState
COMPLETED_WITH_ERRORS: JobState
CONTINUE: Transition
CUT: Transition
DELIVERY_UNSPECIFIED: Delivery
DESCRIPTOR: _descriptor.FileDescriptor
FAILED: JobState
HARD_CUT: Transition
ONLINE: Delivery
PAUSED: JobState
QUEUED: JobState
RUNNING: JobState
UNSPECIFIED: JobState

class BatchProgress(_message.Message):
    __slots__ = ["batches", "failed", "pending", "request_count", "state", "succeeded", "wave"]
    BATCHES_FIELD_NUMBER: _ClassVar[int]
    FAILED_FIELD_NUMBER: _ClassVar[int]
    PENDING_FIELD_NUMBER: _ClassVar[int]
    REQUEST_COUNT_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    SUCCEEDED_FIELD_NUMBER: _ClassVar[int]
    WAVE_FIELD_NUMBER: _ClassVar[int]
    batches: int
    failed: int
    pending: int
    request_count: int
    state: str
    succeeded: int
    wave: int
    def __init__(self, wave: _Optional[int] = ..., batches: _Optional[int] = ..., state: _Optional[str] = ..., request_count: _Optional[int] = ..., succeeded: _Optional[int] = ..., failed: _Optional[int] = ..., pending: _Optional[int] = ...) -> None: ...

class Beat(_message.Message):
    __slots__ = ["id", "prompt", "transition"]
    ID_FIELD_NUMBER: _ClassVar[int]
    PROMPT_FIELD_NUMBER: _ClassVar[int]
    TRANSITION_FIELD_NUMBER: _ClassVar[int]
    id: str
    prompt: str
    transition: Transition
    def __init__(self, id: _Optional[str] = ..., prompt: _Optional[str] = ..., transition: _Optional[_Union[Transition, str]] = ...) -> None: ...

class BeatEvent(_message.Message):
    __slots__ = ["attempt", "batch", "beat_id", "bytes", "error", "key_label", "output_path", "sha256", "shot_id", "state", "style"]
    class State(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = []
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    BATCH_FIELD_NUMBER: _ClassVar[int]
    BEAT_ID_FIELD_NUMBER: _ClassVar[int]
    BYTES_FIELD_NUMBER: _ClassVar[int]
    DONE: BeatEvent.State
    ERROR_FIELD_NUMBER: _ClassVar[int]
    FAILED: BeatEvent.State
    GENERATING: BeatEvent.State
    IN_BATCH: BeatEvent.State
    KEY_LABEL_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_PATH_FIELD_NUMBER: _ClassVar[int]
    QUEUED: BeatEvent.State
    RETRYING: BeatEvent.State
    SHA256_FIELD_NUMBER: _ClassVar[int]
    SHOT_ID_FIELD_NUMBER: _ClassVar[int]
    SKIPPED: BeatEvent.State
    STATE_FIELD_NUMBER: _ClassVar[int]
    STATE_UNSPECIFIED: BeatEvent.State
    STYLE_FIELD_NUMBER: _ClassVar[int]
    WAITING: BeatEvent.State
    attempt: int
    batch: str
    beat_id: str
    bytes: int
    error: str
    key_label: str
    output_path: str
    sha256: str
    shot_id: str
    state: BeatEvent.State
    style: str
    def __init__(self, style: _Optional[str] = ..., shot_id: _Optional[str] = ..., beat_id: _Optional[str] = ..., state: _Optional[_Union[BeatEvent.State, str]] = ..., attempt: _Optional[int] = ..., key_label: _Optional[str] = ..., error: _Optional[str] = ..., output_path: _Optional[str] = ..., bytes: _Optional[int] = ..., sha256: _Optional[str] = ..., batch: _Optional[str] = ...) -> None: ...

class BeatStatus(_message.Message):
    __slots__ = ["attempts", "batch", "beat_id", "billed_requests", "bytes", "error", "estimated_cost_usd", "key_label", "lane", "output_path", "sha256", "shot_id", "state", "style"]
    ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    BATCH_FIELD_NUMBER: _ClassVar[int]
    BEAT_ID_FIELD_NUMBER: _ClassVar[int]
    BILLED_REQUESTS_FIELD_NUMBER: _ClassVar[int]
    BYTES_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    ESTIMATED_COST_USD_FIELD_NUMBER: _ClassVar[int]
    KEY_LABEL_FIELD_NUMBER: _ClassVar[int]
    LANE_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_PATH_FIELD_NUMBER: _ClassVar[int]
    SHA256_FIELD_NUMBER: _ClassVar[int]
    SHOT_ID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    STYLE_FIELD_NUMBER: _ClassVar[int]
    attempts: int
    batch: str
    beat_id: str
    billed_requests: int
    bytes: int
    error: str
    estimated_cost_usd: float
    key_label: str
    lane: str
    output_path: str
    sha256: str
    shot_id: str
    state: BeatEvent.State
    style: str
    def __init__(self, style: _Optional[str] = ..., shot_id: _Optional[str] = ..., beat_id: _Optional[str] = ..., state: _Optional[_Union[BeatEvent.State, str]] = ..., attempts: _Optional[int] = ..., key_label: _Optional[str] = ..., error: _Optional[str] = ..., output_path: _Optional[str] = ..., bytes: _Optional[int] = ..., sha256: _Optional[str] = ..., lane: _Optional[str] = ..., batch: _Optional[str] = ..., billed_requests: _Optional[int] = ..., estimated_cost_usd: _Optional[float] = ...) -> None: ...

class GenerationOptions(_message.Message):
    __slots__ = ["batch_deadline_seconds", "delivery", "force", "max_concurrency"]
    BATCH_DEADLINE_SECONDS_FIELD_NUMBER: _ClassVar[int]
    DELIVERY_FIELD_NUMBER: _ClassVar[int]
    FORCE_FIELD_NUMBER: _ClassVar[int]
    MAX_CONCURRENCY_FIELD_NUMBER: _ClassVar[int]
    batch_deadline_seconds: float
    delivery: Delivery
    force: bool
    max_concurrency: int
    def __init__(self, force: bool = ..., max_concurrency: _Optional[int] = ..., delivery: _Optional[_Union[Delivery, str]] = ..., batch_deadline_seconds: _Optional[float] = ...) -> None: ...

class GetStatusRequest(_message.Message):
    __slots__ = ["include_beats", "job_id", "project_dir"]
    INCLUDE_BEATS_FIELD_NUMBER: _ClassVar[int]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    PROJECT_DIR_FIELD_NUMBER: _ClassVar[int]
    include_beats: bool
    job_id: str
    project_dir: str
    def __init__(self, job_id: _Optional[str] = ..., project_dir: _Optional[str] = ..., include_beats: bool = ...) -> None: ...

class JobAccepted(_message.Message):
    __slots__ = ["attached", "resumed", "styles"]
    ATTACHED_FIELD_NUMBER: _ClassVar[int]
    RESUMED_FIELD_NUMBER: _ClassVar[int]
    STYLES_FIELD_NUMBER: _ClassVar[int]
    attached: bool
    resumed: int
    styles: _containers.RepeatedCompositeFieldContainer[StyleProgress]
    def __init__(self, styles: _Optional[_Iterable[_Union[StyleProgress, _Mapping]]] = ..., resumed: _Optional[int] = ..., attached: bool = ...) -> None: ...

class JobFinished(_message.Message):
    __slots__ = ["message", "state", "styles", "usage"]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    STYLES_FIELD_NUMBER: _ClassVar[int]
    USAGE_FIELD_NUMBER: _ClassVar[int]
    message: str
    state: JobState
    styles: _containers.RepeatedCompositeFieldContainer[StyleSummary]
    usage: Usage
    def __init__(self, state: _Optional[_Union[JobState, str]] = ..., styles: _Optional[_Iterable[_Union[StyleSummary, _Mapping]]] = ..., usage: _Optional[_Union[Usage, _Mapping]] = ..., message: _Optional[str] = ...) -> None: ...

class JobRequest(_message.Message):
    __slots__ = ["job_id"]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    def __init__(self, job_id: _Optional[str] = ...) -> None: ...

class JobStatus(_message.Message):
    __slots__ = ["beats", "coordination_problem", "created_unix_ms", "finished_unix_ms", "job_id", "last_seq", "message", "project_dir", "started_unix_ms", "state", "styles", "usage"]
    BEATS_FIELD_NUMBER: _ClassVar[int]
    COORDINATION_PROBLEM_FIELD_NUMBER: _ClassVar[int]
    CREATED_UNIX_MS_FIELD_NUMBER: _ClassVar[int]
    FINISHED_UNIX_MS_FIELD_NUMBER: _ClassVar[int]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    LAST_SEQ_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    PROJECT_DIR_FIELD_NUMBER: _ClassVar[int]
    STARTED_UNIX_MS_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    STYLES_FIELD_NUMBER: _ClassVar[int]
    USAGE_FIELD_NUMBER: _ClassVar[int]
    beats: _containers.RepeatedCompositeFieldContainer[BeatStatus]
    coordination_problem: str
    created_unix_ms: int
    finished_unix_ms: int
    job_id: str
    last_seq: int
    message: str
    project_dir: str
    started_unix_ms: int
    state: JobState
    styles: _containers.RepeatedCompositeFieldContainer[StyleProgress]
    usage: Usage
    def __init__(self, job_id: _Optional[str] = ..., project_dir: _Optional[str] = ..., state: _Optional[_Union[JobState, str]] = ..., styles: _Optional[_Iterable[_Union[StyleProgress, _Mapping]]] = ..., message: _Optional[str] = ..., last_seq: _Optional[int] = ..., created_unix_ms: _Optional[int] = ..., started_unix_ms: _Optional[int] = ..., finished_unix_ms: _Optional[int] = ..., usage: _Optional[_Union[Usage, _Mapping]] = ..., beats: _Optional[_Iterable[_Union[BeatStatus, _Mapping]]] = ..., coordination_problem: _Optional[str] = ...) -> None: ...

class KeyEvent(_message.Message):
    __slots__ = ["cool_down_ms", "key_label", "model", "project", "reason", "state", "style"]
    class State(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = []
    COOLING: KeyEvent.State
    COOL_DOWN_MS_FIELD_NUMBER: _ClassVar[int]
    DISABLED: KeyEvent.State
    EXHAUSTED: KeyEvent.State
    KEY_LABEL_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    READY: KeyEvent.State
    REASON_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    STATE_UNSPECIFIED: KeyEvent.State
    STYLE_FIELD_NUMBER: _ClassVar[int]
    cool_down_ms: int
    key_label: str
    model: str
    project: str
    reason: str
    state: KeyEvent.State
    style: str
    def __init__(self, style: _Optional[str] = ..., key_label: _Optional[str] = ..., state: _Optional[_Union[KeyEvent.State, str]] = ..., cool_down_ms: _Optional[int] = ..., reason: _Optional[str] = ..., project: _Optional[str] = ..., model: _Optional[str] = ...) -> None: ...

class ListJobsRequest(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class ListJobsResponse(_message.Message):
    __slots__ = ["jobs"]
    JOBS_FIELD_NUMBER: _ClassVar[int]
    jobs: _containers.RepeatedCompositeFieldContainer[JobStatus]
    def __init__(self, jobs: _Optional[_Iterable[_Union[JobStatus, _Mapping]]] = ...) -> None: ...

class ListServersRequest(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class ListServersResponse(_message.Message):
    __slots__ = ["coordinated", "coordination_problem", "servers"]
    COORDINATED_FIELD_NUMBER: _ClassVar[int]
    COORDINATION_PROBLEM_FIELD_NUMBER: _ClassVar[int]
    SERVERS_FIELD_NUMBER: _ClassVar[int]
    coordinated: bool
    coordination_problem: str
    servers: _containers.RepeatedCompositeFieldContainer[ServerInfo]
    def __init__(self, servers: _Optional[_Iterable[_Union[ServerInfo, _Mapping]]] = ..., coordinated: bool = ..., coordination_problem: _Optional[str] = ...) -> None: ...

class ProgressEvent(_message.Message):
    __slots__ = ["accepted", "beat", "finished", "job_id", "key", "message", "seq", "style", "time_unix_ms"]
    ACCEPTED_FIELD_NUMBER: _ClassVar[int]
    BEAT_FIELD_NUMBER: _ClassVar[int]
    FINISHED_FIELD_NUMBER: _ClassVar[int]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    SEQ_FIELD_NUMBER: _ClassVar[int]
    STYLE_FIELD_NUMBER: _ClassVar[int]
    TIME_UNIX_MS_FIELD_NUMBER: _ClassVar[int]
    accepted: JobAccepted
    beat: BeatEvent
    finished: JobFinished
    job_id: str
    key: KeyEvent
    message: str
    seq: int
    style: StyleProgress
    time_unix_ms: int
    def __init__(self, seq: _Optional[int] = ..., job_id: _Optional[str] = ..., time_unix_ms: _Optional[int] = ..., accepted: _Optional[_Union[JobAccepted, _Mapping]] = ..., beat: _Optional[_Union[BeatEvent, _Mapping]] = ..., style: _Optional[_Union[StyleProgress, _Mapping]] = ..., key: _Optional[_Union[KeyEvent, _Mapping]] = ..., message: _Optional[str] = ..., finished: _Optional[_Union[JobFinished, _Mapping]] = ...) -> None: ...

class ServerInfo(_message.Message):
    __slots__ = ["address", "jobs", "seen_unix_ms", "server_id", "this_server"]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    JOBS_FIELD_NUMBER: _ClassVar[int]
    SEEN_UNIX_MS_FIELD_NUMBER: _ClassVar[int]
    SERVER_ID_FIELD_NUMBER: _ClassVar[int]
    THIS_SERVER_FIELD_NUMBER: _ClassVar[int]
    address: str
    jobs: _containers.RepeatedCompositeFieldContainer[ServerJob]
    seen_unix_ms: int
    server_id: str
    this_server: bool
    def __init__(self, server_id: _Optional[str] = ..., address: _Optional[str] = ..., seen_unix_ms: _Optional[int] = ..., this_server: bool = ..., jobs: _Optional[_Iterable[_Union[ServerJob, _Mapping]]] = ...) -> None: ...

class ServerJob(_message.Message):
    __slots__ = ["job_id", "lease_expires_unix_ms", "project_dir"]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    LEASE_EXPIRES_UNIX_MS_FIELD_NUMBER: _ClassVar[int]
    PROJECT_DIR_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    lease_expires_unix_ms: int
    project_dir: str
    def __init__(self, job_id: _Optional[str] = ..., project_dir: _Optional[str] = ..., lease_expires_unix_ms: _Optional[int] = ...) -> None: ...

class Shot(_message.Message):
    __slots__ = ["beats", "id"]
    BEATS_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    beats: _containers.RepeatedCompositeFieldContainer[Beat]
    id: str
    def __init__(self, id: _Optional[str] = ..., beats: _Optional[_Iterable[_Union[Beat, _Mapping]]] = ...) -> None: ...

class StartGenerationRequest(_message.Message):
    __slots__ = ["detach", "options", "project_dir", "request_id", "storyboard", "styles"]
    DETACH_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    PROJECT_DIR_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    STORYBOARD_FIELD_NUMBER: _ClassVar[int]
    STYLES_FIELD_NUMBER: _ClassVar[int]
    detach: bool
    options: GenerationOptions
    project_dir: str
    request_id: str
    storyboard: Storyboard
    styles: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, project_dir: _Optional[str] = ..., storyboard: _Optional[_Union[Storyboard, _Mapping]] = ..., styles: _Optional[_Iterable[str]] = ..., options: _Optional[_Union[GenerationOptions, _Mapping]] = ..., detach: bool = ..., request_id: _Optional[str] = ...) -> None: ...

class Storyboard(_message.Message):
    __slots__ = ["shots"]
    SHOTS_FIELD_NUMBER: _ClassVar[int]
    shots: _containers.RepeatedCompositeFieldContainer[Shot]
    def __init__(self, shots: _Optional[_Iterable[_Union[Shot, _Mapping]]] = ...) -> None: ...

class StyleProgress(_message.Message):
    __slots__ = ["batch", "completed", "failed", "in_batch", "in_flight", "keys_cooling", "keys_disabled", "keys_total", "percent", "style", "total"]
    BATCH_FIELD_NUMBER: _ClassVar[int]
    COMPLETED_FIELD_NUMBER: _ClassVar[int]
    FAILED_FIELD_NUMBER: _ClassVar[int]
    IN_BATCH_FIELD_NUMBER: _ClassVar[int]
    IN_FLIGHT_FIELD_NUMBER: _ClassVar[int]
    KEYS_COOLING_FIELD_NUMBER: _ClassVar[int]
    KEYS_DISABLED_FIELD_NUMBER: _ClassVar[int]
    KEYS_TOTAL_FIELD_NUMBER: _ClassVar[int]
    PERCENT_FIELD_NUMBER: _ClassVar[int]
    STYLE_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    batch: BatchProgress
    completed: int
    failed: int
    in_batch: int
    in_flight: int
    keys_cooling: int
    keys_disabled: int
    keys_total: int
    percent: float
    style: str
    total: int
    def __init__(self, style: _Optional[str] = ..., total: _Optional[int] = ..., completed: _Optional[int] = ..., failed: _Optional[int] = ..., in_flight: _Optional[int] = ..., percent: _Optional[float] = ..., keys_total: _Optional[int] = ..., keys_cooling: _Optional[int] = ..., keys_disabled: _Optional[int] = ..., in_batch: _Optional[int] = ..., batch: _Optional[_Union[BatchProgress, _Mapping]] = ...) -> None: ...

class StyleSummary(_message.Message):
    __slots__ = ["done", "duration_ms", "error", "failed", "skipped", "style", "total", "usage"]
    DONE_FIELD_NUMBER: _ClassVar[int]
    DURATION_MS_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    FAILED_FIELD_NUMBER: _ClassVar[int]
    SKIPPED_FIELD_NUMBER: _ClassVar[int]
    STYLE_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    USAGE_FIELD_NUMBER: _ClassVar[int]
    done: int
    duration_ms: int
    error: str
    failed: int
    skipped: int
    style: str
    total: int
    usage: Usage
    def __init__(self, style: _Optional[str] = ..., total: _Optional[int] = ..., done: _Optional[int] = ..., failed: _Optional[int] = ..., skipped: _Optional[int] = ..., duration_ms: _Optional[int] = ..., usage: _Optional[_Union[Usage, _Mapping]] = ..., error: _Optional[str] = ...) -> None: ...

class Usage(_message.Message):
    __slots__ = ["batch_images", "batch_requests", "estimated_cost_usd", "images", "output_tokens", "prompt_tokens", "requests", "total_tokens", "unknown_outcome_attempts", "wasted_billed_attempts", "wasted_cost_usd"]
    BATCH_IMAGES_FIELD_NUMBER: _ClassVar[int]
    BATCH_REQUESTS_FIELD_NUMBER: _ClassVar[int]
    ESTIMATED_COST_USD_FIELD_NUMBER: _ClassVar[int]
    IMAGES_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    PROMPT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    REQUESTS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_TOKENS_FIELD_NUMBER: _ClassVar[int]
    UNKNOWN_OUTCOME_ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    WASTED_BILLED_ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    WASTED_COST_USD_FIELD_NUMBER: _ClassVar[int]
    batch_images: int
    batch_requests: int
    estimated_cost_usd: float
    images: int
    output_tokens: int
    prompt_tokens: int
    requests: int
    total_tokens: int
    unknown_outcome_attempts: int
    wasted_billed_attempts: int
    wasted_cost_usd: float
    def __init__(self, requests: _Optional[int] = ..., images: _Optional[int] = ..., wasted_billed_attempts: _Optional[int] = ..., unknown_outcome_attempts: _Optional[int] = ..., prompt_tokens: _Optional[int] = ..., output_tokens: _Optional[int] = ..., total_tokens: _Optional[int] = ..., batch_requests: _Optional[int] = ..., batch_images: _Optional[int] = ..., estimated_cost_usd: _Optional[float] = ..., wasted_cost_usd: _Optional[float] = ...) -> None: ...

class WatchJobRequest(_message.Message):
    __slots__ = ["after_seq", "job_id"]
    AFTER_SEQ_FIELD_NUMBER: _ClassVar[int]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    after_seq: int
    job_id: str
    def __init__(self, job_id: _Optional[str] = ..., after_seq: _Optional[int] = ...) -> None: ...

class Transition(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

class Delivery(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

class JobState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []
