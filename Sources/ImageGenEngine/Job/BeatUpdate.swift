/// A beat's state change in one style.
public struct BeatUpdate: Sendable, Equatable {
    /// The states a beat goes through.
    public enum State: String, Sendable, Equatable {
        /// Will be generated.
        case queued
        /// Waits for its predecessor's image (continuity).
        case waiting
        /// A request is in flight.
        case generating
        /// Sent in a Batch API batch (see `batch`), waiting for the batch's answer.
        case inBatch
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
    public var shotID: String
    public var beatID: String
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
    /// For `inBatch`: the batch's display name (and, once created, its name after a space).
    public var batch: String?

    public init(
        style: String, shotID: String, beatID: String, state: State, attempt: Int = 0, keyLabel: String? = nil,
        outputPath: String? = nil, bytes: Int? = nil, sha256: String? = nil, error: String? = nil,
        retryIn: Duration? = nil, batch: String? = nil
    ) {
        self.style = style
        self.shotID = shotID
        self.beatID = beatID
        self.state = state
        self.attempt = attempt
        self.keyLabel = keyLabel
        self.outputPath = outputPath
        self.bytes = bytes
        self.sha256 = sha256
        self.error = error
        self.retryIn = retryIn
        self.batch = batch
    }
}
