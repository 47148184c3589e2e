/// How a `FakeGeminiServer` behaves: where it listens, which keys it knows, its pace limits,
/// latency and faults. Every field has a default; by default no key is known (set `keys` or `acceptAnyKey`) and nothing is limited.
public struct FakeGeminiConfiguration: Sendable {
    /// The address to bind; loopback by default.
    public var host: String
    /// The port to bind; 0 picks a free one (`FakeGeminiServer.start()` returns it).
    public var port: Int
    /// Known keys: secret → project. A key missing here answers 400 API_KEY_INVALID
    /// unless `acceptAnyKey` is set.
    public var keys: [String: String]
    /// Accepts every non-empty key (project "default") for dry runs.
    public var acceptAnyKey: Bool
    /// Keys answered with 403 PERMISSION_DENIED.
    public var forbiddenKeys: Set<String>
    /// Models that exist; nil accepts every model name. Others answer 404 NOT_FOUND.
    public var models: Set<String>?
    /// Accepted requests per (project, model) within `rateWindow`, a sliding window; nil means no
    /// limit. Exceeding it answers 429 with a per-minute quotaId and a RetryInfo delay until a slot
    /// frees. Ignored when `limiter` is set.
    public var requestsPerMinute: Int?
    /// The sliding window of `requestsPerMinute`: one minute, shorter in tests.
    public var rateWindow: Duration
    /// The per-(project, model) rate limiter; nil means `requestsPerMinute` per sliding `rateWindow`.
    public var limiter: FakeGeminiLimiter?
    /// Accepted requests per (project, model) per UTC day; nil means no limit. Exceeding it answers 429 with a per-day quotaId.
    public var requestsPerDay: Int?
    /// The time the limiters read; a manual clock makes them deterministic in tests.
    public var clock: FakeGeminiClock
    /// Delay before every generateContent answer.
    public var latency: Duration
    /// A random extra delay, uniform in 0...jitter.
    public var jitter: Duration
    /// The RetryInfo delay of the `rate_limit` fault.
    public var faultRetryDelay: Duration
    /// Faults answered by the first requests, in order.
    public var faults: [FakeGeminiScriptedFault]
    /// gzip-encodes generateContent answers when the request accepts gzip, as Google's front end does.
    public var gzipResponses: Bool
    /// How long a new batch stays PENDING.
    public var batchPendingTime: Duration
    /// How long a batch runs: its requests are processed one by one, evenly over this time.
    public var batchRunningTime: Duration
    /// Faults of the next batches created, in order (``FakeGeminiBatchFault``).
    public var batchFaults: [FakeGeminiBatchFault]

    /// Creates a configuration; the defaults accept no key (see `keys` and `acceptAnyKey`), with no limits or faults.
    public init(
        host: String = "127.0.0.1",
        port: Int = 0,
        keys: [String: String] = [:],
        acceptAnyKey: Bool = false,
        forbiddenKeys: Set<String> = [],
        models: Set<String>? = nil,
        requestsPerMinute: Int? = nil,
        rateWindow: Duration = .seconds(60),
        limiter: FakeGeminiLimiter? = nil,
        requestsPerDay: Int? = nil,
        clock: FakeGeminiClock = FakeGeminiClock(),
        latency: Duration = .zero,
        jitter: Duration = .zero,
        faultRetryDelay: Duration = .milliseconds(1_500),
        faults: [FakeGeminiScriptedFault] = [],
        gzipResponses: Bool = true,
        batchPendingTime: Duration = .zero,
        batchRunningTime: Duration = .zero,
        batchFaults: [FakeGeminiBatchFault] = []
    ) {
        self.batchPendingTime = batchPendingTime
        self.batchRunningTime = batchRunningTime
        self.batchFaults = batchFaults
        self.host = host
        self.port = port
        self.keys = keys
        self.acceptAnyKey = acceptAnyKey
        self.forbiddenKeys = forbiddenKeys
        self.models = models
        self.requestsPerMinute = requestsPerMinute
        self.rateWindow = rateWindow
        self.limiter = limiter
        self.requestsPerDay = requestsPerDay
        self.clock = clock
        self.latency = latency
        self.jitter = jitter
        self.faultRetryDelay = faultRetryDelay
        self.faults = faults
        self.gzipResponses = gzipResponses
    }

    /// The limiter in force: `limiter`, else a sliding window of `requestsPerMinute`, else none.
    public var effectiveLimiter: FakeGeminiLimiter? {
        limiter ?? requestsPerMinute.map { .slidingWindow(requests: $0, window: rateWindow) }
    }
}
