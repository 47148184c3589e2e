/// The shape of the fake's rate limit, applied to each (project, model) on its own, as Gemini's
/// `GenerateRequestsPerMinutePerProjectPerModel` quota is.
public enum FakeGeminiLimiter: Sendable, Equatable {
    /// A token bucket holding at most `burst` requests, refilled at `perMinute` per minute;
    /// `burst` 1 admits requests no closer than 60 s ÷ `perMinute` apart. Starts full.
    case tokenBucket(burst: Int, perMinute: Double)
    /// At most `requests` per window, the windows back to back from the server's start.
    case fixedWindow(requests: Int, window: Duration)
    /// At most `requests` within any `window` ending now.
    case slidingWindow(requests: Int, window: Duration)

    /// The limiter shapes by their command-line names.
    public enum Kind: String, Sendable, CaseIterable {
        case tokenBucket = "token-bucket"
        case fixedWindow = "fixed-window"
        case slidingWindow = "sliding-window"

        /// This shape admitting `requests` per `window` (a token bucket refills at that rate and holds `burst`).
        public func limiter(requests: Int, window: Duration, burst: Int = 1) -> FakeGeminiLimiter {
            switch self {
            case .tokenBucket:
                let seconds = window.fakeSeconds
                return .tokenBucket(burst: burst, perMinute: Double(requests) * 60 / seconds)
            case .fixedWindow:
                return .fixedWindow(requests: requests, window: window)
            case .slidingWindow:
                return .slidingWindow(requests: requests, window: window)
            }
        }
    }

    /// The shape's command-line name.
    public var kind: Kind {
        switch self {
        case .tokenBucket: .tokenBucket
        case .fixedWindow: .fixedWindow
        case .slidingWindow: .slidingWindow
        }
    }

    /// The `quotaValue` of its 429s, which name a per-minute quota as Gemini's do: requests per
    /// minute (a window shorter than a minute, as tests use, is stated at its per-minute rate:
    /// 5 per 5 s says 60).
    public var quotaValue: Int {
        switch self {
        case .tokenBucket(_, let perMinute): max(1, Int(perMinute.rounded()))
        case .fixedWindow(let requests, let window), .slidingWindow(let requests, let window):
            max(1, Int((Double(requests) * 60 / window.fakeSeconds).rounded()))
        }
    }

    /// Whether every count and duration is usable (positive).
    public var isValid: Bool {
        switch self {
        case .tokenBucket(let burst, let perMinute): burst >= 1 && perMinute > 0 && perMinute.isFinite
        case .fixedWindow(let requests, let window), .slidingWindow(let requests, let window): requests >= 1 && window > .zero
        }
    }
}
