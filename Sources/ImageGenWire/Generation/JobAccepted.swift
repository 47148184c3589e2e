internal import CImageGenWire

/// The first event of a job's stream (`imagegen.v1.JobAccepted`).
public struct JobAccepted: WireMessage {
    /// Totals per style, with what is already done.
    public var styles: [StyleProgress]
    /// Beats already done (all styles).
    public var resumed: UInt32
    /// True when this call attached to a job already running.
    public var attached: Bool

    public init(styles: [StyleProgress] = [], resumed: UInt32 = 0, attached: Bool = false) {
        self.styles = styles
        self.resumed = resumed
        self.attached = attached
    }

    public init(serializedBytes bytes: [UInt8], limits: DecodeLimits) throws {
        try self.init(unpacking: bytes, limits: limits, name: "JobAccepted")
    }

    public func serializedBytes() -> [UInt8] { packedBytes() }
}

extension JobAccepted: ProtobufCConvertible {
    typealias CMessage = Imagegen__V1__JobAccepted

    static func initialize(_ message: UnsafeMutablePointer<CMessage>) { imagegen__v1__job_accepted__init(message) }

    func fill(_ c: UnsafeMutablePointer<CMessage>, arena: CArena) {
        (c.pointee.n_styles, c.pointee.styles) = arena.messages(styles)
        c.pointee.resumed = resumed
        c.pointee.attached = attached.protobufC
    }

    init(c: CMessage) throws {
        styles = try CField.messages(c.n_styles, c.styles, as: StyleProgress.self)
        resumed = c.resumed
        attached = CField.bool(c.attached)
    }
}
