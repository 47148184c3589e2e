internal import CImageGenWire

/// Where one beat of one style stands, in a `JobStatus` (`imagegen.v1.BeatStatus`).
public struct BeatStatus: WireMessage {
    /// The style.
    public var style: String
    /// The beat's shot.
    public var shotID: String
    /// The beat.
    public var beatID: String
    /// The beat's state.
    public var state: BeatEvent.State
    /// Attempts made so far.
    public var attempts: UInt32
    /// The key last used, as "style#index…last4", never the key.
    public var keyLabel: String
    /// The last error; empty when none.
    public var error: String
    /// Where the image was written, when done.
    public var outputPath: String
    /// The image's size in bytes, when done.
    public var bytes: UInt64
    /// The image's SHA-256 in hex, when done.
    public var sha256: String
    /// "online" or "batch"; empty in records made before lanes.
    public var lane: String
    /// The batch it is (or was made) in.
    public var batch: String
    /// Requests that may have been billed for it.
    public var billedRequests: UInt32
    /// Their estimated cost in US dollars.
    public var estimatedCostUSD: Double

    public init(
        style: String = "", shotID: String = "", beatID: String = "", state: BeatEvent.State = .unspecified,
        attempts: UInt32 = 0, keyLabel: String = "", error: String = "", outputPath: String = "",
        bytes: UInt64 = 0, sha256: String = "", lane: String = "", batch: String = "", billedRequests: UInt32 = 0,
        estimatedCostUSD: Double = 0
    ) {
        self.lane = lane
        self.batch = batch
        self.billedRequests = billedRequests
        self.estimatedCostUSD = estimatedCostUSD
        self.style = style
        self.shotID = shotID
        self.beatID = beatID
        self.state = state
        self.attempts = attempts
        self.keyLabel = keyLabel
        self.error = error
        self.outputPath = outputPath
        self.bytes = bytes
        self.sha256 = sha256
    }

    public init(serializedBytes bytes: [UInt8], limits: DecodeLimits) throws {
        try self.init(unpacking: bytes, limits: limits, name: "BeatStatus")
    }

    public func serializedBytes() -> [UInt8] { packedBytes() }
}

extension BeatStatus: ProtobufCConvertible {
    typealias CMessage = Imagegen__V1__BeatStatus

    static func initialize(_ message: UnsafeMutablePointer<CMessage>) { imagegen__v1__beat_status__init(message) }

    func fill(_ c: UnsafeMutablePointer<CMessage>, arena: CArena) {
        c.pointee.style = arena.string(style)
        c.pointee.shot_id = arena.string(shotID)
        c.pointee.beat_id = arena.string(beatID)
        c.pointee.state = state.cValue()
        c.pointee.attempts = attempts
        c.pointee.key_label = arena.string(keyLabel)
        c.pointee.error = arena.string(error)
        c.pointee.output_path = arena.string(outputPath)
        c.pointee.bytes = bytes
        c.pointee.sha256 = arena.string(sha256)
        c.pointee.lane = arena.string(lane)
        c.pointee.batch = arena.string(batch)
        c.pointee.billed_requests = billedRequests
        c.pointee.estimated_cost_usd = estimatedCostUSD
    }

    init(c: CMessage) throws {
        style = try CField.string(c.style, "BeatStatus.style")
        shotID = try CField.string(c.shot_id, "BeatStatus.shot_id")
        beatID = try CField.string(c.beat_id, "BeatStatus.beat_id")
        state = try BeatEvent.State(c: c.state, "BeatStatus.state")
        attempts = c.attempts
        keyLabel = try CField.string(c.key_label, "BeatStatus.key_label")
        error = try CField.string(c.error, "BeatStatus.error")
        outputPath = try CField.string(c.output_path, "BeatStatus.output_path")
        bytes = c.bytes
        sha256 = try CField.string(c.sha256, "BeatStatus.sha256")
        lane = try CField.string(c.lane, "BeatStatus.lane")
        batch = try CField.string(c.batch, "BeatStatus.batch")
        billedRequests = c.billed_requests
        estimatedCostUSD = c.estimated_cost_usd
    }
}
