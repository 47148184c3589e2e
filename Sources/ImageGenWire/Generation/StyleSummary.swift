internal import CImageGenWire

/// How one style of a finished job went (`imagegen.v1.StyleSummary`).
public struct StyleSummary: WireMessage {
    /// The style.
    public var style: String
    /// Beats to render in this style.
    public var total: UInt32
    /// Beats done by this job.
    public var done: UInt32
    /// Beats that failed.
    public var failed: UInt32
    /// Beats already done before this job.
    public var skipped: UInt32
    /// How long the style took, in milliseconds.
    public var durationMs: UInt64
    /// What the style spent. Absent on the wire reads as `Usage()`; sent only when it differs from `Usage()`.
    public var usage: Usage
    /// Why the style stopped early, e.g. every key disabled; empty otherwise.
    public var error: String

    public init(
        style: String = "", total: UInt32 = 0, done: UInt32 = 0, failed: UInt32 = 0, skipped: UInt32 = 0,
        durationMs: UInt64 = 0, usage: Usage = Usage(), error: String = ""
    ) {
        self.style = style
        self.total = total
        self.done = done
        self.failed = failed
        self.skipped = skipped
        self.durationMs = durationMs
        self.usage = usage
        self.error = error
    }

    public init(serializedBytes bytes: [UInt8], limits: DecodeLimits) throws {
        try self.init(unpacking: bytes, limits: limits, name: "StyleSummary")
    }

    public func serializedBytes() -> [UInt8] { packedBytes() }
}

extension StyleSummary: ProtobufCConvertible {
    typealias CMessage = Imagegen__V1__StyleSummary

    static func initialize(_ message: UnsafeMutablePointer<CMessage>) { imagegen__v1__style_summary__init(message) }

    func fill(_ c: UnsafeMutablePointer<CMessage>, arena: CArena) {
        c.pointee.style = arena.string(style)
        c.pointee.total = total
        c.pointee.done = done
        c.pointee.failed = failed
        c.pointee.skipped = skipped
        c.pointee.duration_ms = durationMs
        c.pointee.usage = arena.message(usage, unlessEqualTo: Usage())
        c.pointee.error = arena.string(error)
    }

    init(c: CMessage) throws {
        style = try CField.string(c.style, "StyleSummary.style")
        total = c.total
        done = c.done
        failed = c.failed
        skipped = c.skipped
        durationMs = c.duration_ms
        usage = try Usage.decoded(c.usage)
        error = try CField.string(c.error, "StyleSummary.error")
    }
}
