/// What a 429 said: how long to wait, and — when Gemini attached a `QuotaFailure` — which quota
/// was hit (its window, its limit, its model). A bare 429 carries only the message.
public struct RateLimit: Sendable, Equatable {
    /// The window a violated quota counts requests over, from its `quotaId`
    /// ("…PerMinute…", "…PerDay…").
    public enum Window: String, Sendable, Equatable {
        case minute
        case day
    }

    /// From RetryInfo.retryDelay (or the message text) when given.
    public var retryAfter: Duration?
    /// The violated quota's window; nil when the answer named no quota (a bare 429).
    public var window: Window?
    /// The violated quota's `quotaValue`: requests allowed per `window`.
    public var limit: Int?
    /// The violated quota's `quotaDimensions.model`.
    public var model: String?
    /// Gemini's message, scrubbed of keys.
    public var message: String

    public init(retryAfter: Duration? = nil, window: Window? = nil, limit: Int? = nil, model: String? = nil, message: String) {
        self.retryAfter = retryAfter
        self.window = window
        self.limit = limit
        self.model = model
        self.message = message
    }

    /// The violated quota is a per-day one: the key's project and model are spent until midnight Pacific time.
    public var perDay: Bool { window == .day }

    /// The limit per minute that the answer stated, when it named a per-minute quota and its value.
    public var limitPerMinute: Double? {
        guard window == .minute, let limit, limit > 0 else { return nil }
        return Double(limit)
    }
}
