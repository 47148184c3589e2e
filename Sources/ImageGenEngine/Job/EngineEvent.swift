/// What the engine reports while a job runs, in order, as plain `Sendable` values (the service
/// layer maps them to protobuf and numbers them).
public enum EngineEvent: Sendable, Equatable {
    /// A beat changed state.
    case beat(BeatEvent)
    /// A style's counters changed.
    case progress(StyleProgress)
    /// A key was cooled, set aside for the day, disabled, or is ready again.
    case key(KeyEvent)
    /// A human-readable note about the job (which provider a style uses, a style failing, …).
    case message(style: String?, text: String)
    /// A style finished (completed, failed or cancelled).
    case styleFinished(StyleSummary)
    /// The job finished; always the last event.
    case jobFinished(JobSummary)
}

/// A beat's state change in one style.
public struct BeatEvent: Sendable, Equatable {
    /// The states a beat goes through.
    public enum State: String, Sendable, Equatable {
        /// Will be generated.
        case queued
        /// Waits for its predecessor's image (continuity).
        case waiting
        /// A request is in flight.
        case generating
        /// A retry is scheduled after `retryIn`.
        case retrying
        /// The image is on disk and recorded.
        case done
        /// Given up for this job (see `error`).
        case failed
        /// Already done by an earlier run with the same inputs.
        case skipped
    }

    public var style: String
    public var shot: String
    public var beat: String
    public var state: State
    /// 1-based request number for this beat in this job (0 before the first request).
    public var attempt: Int
    public var keyLabel: String?
    /// The image path relative to the project.
    public var outputPath: String?
    public var bytes: Int?
    public var sha256: String?
    public var error: String?
    /// For `retrying`: how long until the next attempt may start.
    public var retryIn: Duration?

    public init(
        style: String, shot: String, beat: String, state: State, attempt: Int = 0, keyLabel: String? = nil,
        outputPath: String? = nil, bytes: Int? = nil, sha256: String? = nil, error: String? = nil,
        retryIn: Duration? = nil
    ) {
        self.style = style
        self.shot = shot
        self.beat = beat
        self.state = state
        self.attempt = attempt
        self.keyLabel = keyLabel
        self.outputPath = outputPath
        self.bytes = bytes
        self.sha256 = sha256
        self.error = error
        self.retryIn = retryIn
    }
}

/// One style's counters at a moment.
public struct StyleProgress: Sendable, Equatable {
    public var style: String
    /// Beats in the storyboard.
    public var total: Int
    /// Done in this job or skipped as already done.
    public var completed: Int
    public var failed: Int
    public var inFlight: Int
    /// completed / total × 100.
    public var percent: Double
    public var keysTotal: Int
    public var keysCooling: Int
    public var keysDisabled: Int

    public init(
        style: String, total: Int = 0, completed: Int = 0, failed: Int = 0, inFlight: Int = 0, percent: Double = 0,
        keysTotal: Int = 0, keysCooling: Int = 0, keysDisabled: Int = 0
    ) {
        self.style = style
        self.total = total
        self.completed = completed
        self.failed = failed
        self.inFlight = inFlight
        self.percent = percent
        self.keysTotal = keysTotal
        self.keysCooling = keysCooling
        self.keysDisabled = keysDisabled
    }
}

/// A key's state change. Keys are named by label only.
public struct KeyEvent: Sendable, Equatable {
    /// What happened to the key.
    public enum State: String, Sendable, Equatable {
        /// Its project hit a rate limit; no requests for `duration`.
        case cooled
        /// Its project's daily quota is spent; set aside for the rest of the job.
        case exhausted
        /// The key was rejected; disabled for the job.
        case disabled
        /// Usable again after cooling.
        case ready
    }

    public var style: String
    public var keyLabel: String
    public var project: String
    public var state: State
    public var duration: Duration?
    public var reason: String

    public init(style: String, keyLabel: String, project: String, state: State, duration: Duration? = nil, reason: String) {
        self.style = style
        self.keyLabel = keyLabel
        self.project = project
        self.state = state
        self.duration = duration
        self.reason = reason
    }
}

/// What a style's requests cost.
public struct SpendCounters: Sendable, Equatable, Codable {
    /// Requests sent (every outcome).
    public var requests: Int
    /// Images received.
    public var imagesReceived: Int
    /// Billed attempts without a usable image (blocked, no image).
    public var wastedAttempts: Int
    /// Attempts whose outcome is unknown (may have been billed).
    public var unknownOutcomeAttempts: Int
    /// Rate-limited attempts (429).
    public var rateLimited: Int
    public var usage: TokenUsage

    public init(
        requests: Int = 0, imagesReceived: Int = 0, wastedAttempts: Int = 0, unknownOutcomeAttempts: Int = 0,
        rateLimited: Int = 0, usage: TokenUsage = TokenUsage()
    ) {
        self.requests = requests
        self.imagesReceived = imagesReceived
        self.wastedAttempts = wastedAttempts
        self.unknownOutcomeAttempts = unknownOutcomeAttempts
        self.rateLimited = rateLimited
        self.usage = usage
    }
}

/// How a style or a job ended.
public enum JobState: String, Sendable, Equatable {
    case running
    /// Every beat is done.
    case completed
    /// Finished, but some beats (or whole styles) failed.
    case completedWithErrors
    /// Nothing could be done (every style failed).
    case failed
    /// Stopped by cancellation; what is done is kept and a rerun resumes.
    case cancelled
}

/// A style's final account.
public struct StyleSummary: Sendable, Equatable {
    public var style: String
    /// "gemini", "offline" or a test double's name.
    public var provider: String
    public var state: JobState
    public var total: Int
    /// Generated in this job.
    public var done: Int
    public var failed: Int
    /// Already done by an earlier run.
    public var skipped: Int
    public var duration: Duration
    public var spend: SpendCounters
    /// Why the style failed as a whole, if it did.
    public var error: String?

    public init(
        style: String, provider: String, state: JobState, total: Int, done: Int, failed: Int, skipped: Int,
        duration: Duration, spend: SpendCounters, error: String? = nil
    ) {
        self.style = style
        self.provider = provider
        self.state = state
        self.total = total
        self.done = done
        self.failed = failed
        self.skipped = skipped
        self.duration = duration
        self.spend = spend
        self.error = error
    }
}

/// The job's final account.
public struct JobSummary: Sendable, Equatable {
    public var state: JobState
    public var styles: [StyleSummary]
    public var duration: Duration

    public init(state: JobState, styles: [StyleSummary], duration: Duration) {
        self.state = state
        self.styles = styles
        self.duration = duration
    }
}
