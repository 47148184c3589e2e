/// What the progress file knows about one beat of one style: one JSON object in
/// `image_progress_<style>.json` and one line per change in `image_progress_<style>.journal`.
public struct BeatRecord: Sendable, Equatable, Codable {
    /// A beat's state on disk.
    public enum State: String, Sendable, Codable {
        /// Not done yet (queued, or an unknown-outcome attempt was recorded).
        case pending
        /// The image is at `file` with `bytes` and `sha256`.
        case done
        /// The last run gave up on it; the next run retries it.
        case failed
    }

    public var shot: String
    public var beat: String
    public var state: State
    /// The image's path relative to the project, e.g. "generated_images/clear/Shot_1/Beat_1.1.png".
    public var file: String?
    public var bytes: Int?
    public var sha256: String?
    /// A hash of everything that shaped the image: prompt, template, model, settings, reference hashes.
    public var fingerprint: String?
    /// Requests sent for this image (all kinds of outcomes).
    public var attempts: Int
    /// Attempts that may have been billed without giving an image (timeouts after sending).
    public var unknownOutcomeAttempts: Int
    /// Billed attempts that gave no usable image (blocked, no image).
    public var wastedAttempts: Int
    public var lastError: String?
    /// The label of the key that made the image (never the key).
    public var keyLabel: String?
    public var usage: TokenUsage
    /// Seconds since 1970 when this record was written.
    public var updatedAt: Double
    /// Seconds the successful request took.
    public var durationSeconds: Double?
    /// How the image was (or is being) asked for: "online" or "batch"; nil in records before lanes.
    public var lane: Delivery?
    /// While `pending` in a batch, and once done from one: the batch's display name.
    public var batch: String?
    /// Requests that may have been billed for this image (images, blocks, no-image answers,
    /// unknown outcomes), across runs.
    public var billedRequests: Int?
    /// Their estimated cost in US dollars, at the configured prices of their lanes.
    public var estimatedCostUSD: Double?

    public init(
        shot: String, beat: String, state: State, file: String? = nil, bytes: Int? = nil, sha256: String? = nil,
        fingerprint: String? = nil, attempts: Int = 0, unknownOutcomeAttempts: Int = 0, wastedAttempts: Int = 0,
        lastError: String? = nil, keyLabel: String? = nil, usage: TokenUsage = TokenUsage(), updatedAt: Double = 0,
        durationSeconds: Double? = nil, lane: Delivery? = nil, batch: String? = nil, billedRequests: Int? = nil,
        estimatedCostUSD: Double? = nil
    ) {
        self.shot = shot
        self.beat = beat
        self.state = state
        self.file = file
        self.bytes = bytes
        self.sha256 = sha256
        self.fingerprint = fingerprint
        self.attempts = attempts
        self.unknownOutcomeAttempts = unknownOutcomeAttempts
        self.wastedAttempts = wastedAttempts
        self.lastError = lastError
        self.keyLabel = keyLabel
        self.usage = usage
        self.updatedAt = updatedAt
        self.durationSeconds = durationSeconds
        self.lane = lane
        self.batch = batch
        self.billedRequests = billedRequests
        self.estimatedCostUSD = estimatedCostUSD
    }

    /// The key of a record in its style's progress: "shot/beat".
    public var key: String { "\(shot)/\(beat)" }
}
