internal import CImageGenWire

/// The last event of a job's stream (`imagegen.v1.JobFinished`).
public struct JobFinished: WireMessage {
    /// How the job ended.
    public var state: JobState
    /// How each style went.
    public var styles: [StyleSummary]
    /// What the job spent. Absent on the wire reads as `Usage()`; sent only when it differs from `Usage()`.
    public var usage: Usage
    /// A human-readable note, e.g. why the job failed.
    public var message: String

    public init(state: JobState = .unspecified, styles: [StyleSummary] = [], usage: Usage = Usage(), message: String = "") {
        self.state = state
        self.styles = styles
        self.usage = usage
        self.message = message
    }

    public init(serializedBytes bytes: [UInt8], limits: DecodeLimits) throws {
        try self.init(unpacking: bytes, limits: limits, name: "JobFinished")
    }

    public func serializedBytes() -> [UInt8] { packedBytes() }
}

extension JobFinished: ProtobufCConvertible {
    typealias CMessage = Imagegen__V1__JobFinished

    static func initialize(_ message: UnsafeMutablePointer<CMessage>) { imagegen__v1__job_finished__init(message) }

    func fill(_ c: UnsafeMutablePointer<CMessage>, arena: CArena) {
        c.pointee.state = state.cValue()
        (c.pointee.n_styles, c.pointee.styles) = arena.messages(styles)
        c.pointee.usage = arena.message(usage, unlessEqualTo: Usage())
        c.pointee.message = arena.string(message)
    }

    init(c: CMessage) throws {
        state = try JobState(c: c.state, "JobFinished.state")
        styles = try CField.messages(c.n_styles, c.styles, as: StyleSummary.self)
        usage = try Usage.decoded(c.usage)
        message = try CField.string(c.message, "JobFinished.message")
    }
}
