internal import CImageGenWire

/// A beat of one style changed state (`imagegen.v1.BeatEvent`).
public struct BeatEvent: WireMessage {
    /// Where a beat is in one style (`imagegen.v1.BeatEvent.State`).
    public enum State: Int32, Sendable, Hashable, CaseIterable {
        /// Not set.
        case unspecified = 0
        /// Waiting for its turn.
        case queued = 1
        /// Waiting for a key, or for its predecessor in the shot.
        case waiting = 2
        /// A request is in flight.
        case generating = 3
        /// The image is written.
        case done = 4
        /// Gave up.
        case failed = 5
        /// Already done and current.
        case skipped = 6
        /// Failed once, trying again.
        case retrying = 7
        /// Sent in a Batch API batch (see `batch`), waiting for its answer.
        case inBatch = 8
    }

    /// The style.
    public var style: String
    /// The beat's shot.
    public var shotID: String
    /// The beat.
    public var beatID: String
    /// The new state.
    public var state: State
    /// The attempt number, from 1.
    public var attempt: UInt32
    /// The key used, as "style#index…last4", never the key.
    public var keyLabel: String
    /// Why it failed or retries; empty otherwise.
    public var error: String
    /// Where the image was written, when done.
    public var outputPath: String
    /// The image's size in bytes, when done.
    public var bytes: UInt64
    /// The image's SHA-256 in hex, when done.
    public var sha256: String
    /// `inBatch`: the batch's display name (and its name once created).
    public var batch: String

    public init(
        style: String = "", shotID: String = "", beatID: String = "", state: State = .unspecified,
        attempt: UInt32 = 0, keyLabel: String = "", error: String = "", outputPath: String = "",
        bytes: UInt64 = 0, sha256: String = "", batch: String = ""
    ) {
        self.batch = batch
        self.style = style
        self.shotID = shotID
        self.beatID = beatID
        self.state = state
        self.attempt = attempt
        self.keyLabel = keyLabel
        self.error = error
        self.outputPath = outputPath
        self.bytes = bytes
        self.sha256 = sha256
    }

    public init(serializedBytes bytes: [UInt8], limits: DecodeLimits) throws {
        try self.init(unpacking: bytes, limits: limits, name: "BeatEvent")
    }

    public func serializedBytes() -> [UInt8] { packedBytes() }
}

extension BeatEvent.State: ProtobufCEnum {}

extension BeatEvent: ProtobufCConvertible {
    typealias CMessage = Imagegen__V1__BeatEvent

    static func initialize(_ message: UnsafeMutablePointer<CMessage>) { imagegen__v1__beat_event__init(message) }

    func fill(_ c: UnsafeMutablePointer<CMessage>, arena: CArena) {
        c.pointee.style = arena.string(style)
        c.pointee.shot_id = arena.string(shotID)
        c.pointee.beat_id = arena.string(beatID)
        c.pointee.state = state.cValue()
        c.pointee.attempt = attempt
        c.pointee.key_label = arena.string(keyLabel)
        c.pointee.error = arena.string(error)
        c.pointee.output_path = arena.string(outputPath)
        c.pointee.bytes = bytes
        c.pointee.sha256 = arena.string(sha256)
        c.pointee.batch = arena.string(batch)
    }

    init(c: CMessage) throws {
        style = try CField.string(c.style, "BeatEvent.style")
        shotID = try CField.string(c.shot_id, "BeatEvent.shot_id")
        beatID = try CField.string(c.beat_id, "BeatEvent.beat_id")
        state = try State(c: c.state, "BeatEvent.state")
        attempt = c.attempt
        keyLabel = try CField.string(c.key_label, "BeatEvent.key_label")
        error = try CField.string(c.error, "BeatEvent.error")
        outputPath = try CField.string(c.output_path, "BeatEvent.output_path")
        bytes = c.bytes
        sha256 = try CField.string(c.sha256, "BeatEvent.sha256")
        batch = try CField.string(c.batch, "BeatEvent.batch")
    }
}
