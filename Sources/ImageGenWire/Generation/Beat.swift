internal import CImageGenWire

/// One image of a shot (`imagegen.v1.Beat`).
public struct Beat: WireMessage {
    /// `[A-Za-z0-9._-]{1,64}`, not "." or ".."; unique in the storyboard.
    public var id: String
    /// What to draw; non-empty.
    public var prompt: String
    /// How the beat relates to the one before it.
    public var transition: Transition

    public init(id: String = "", prompt: String = "", transition: Transition = .cut) {
        self.id = id
        self.prompt = prompt
        self.transition = transition
    }

    public init(serializedBytes bytes: [UInt8], limits: DecodeLimits) throws {
        try self.init(unpacking: bytes, limits: limits, name: "Beat")
    }

    public func serializedBytes() -> [UInt8] { packedBytes() }
}

extension Beat: ProtobufCConvertible {
    typealias CMessage = Imagegen__V1__Beat

    static func initialize(_ message: UnsafeMutablePointer<CMessage>) { imagegen__v1__beat__init(message) }

    func fill(_ c: UnsafeMutablePointer<CMessage>, arena: CArena) {
        c.pointee.id = arena.string(id)
        c.pointee.prompt = arena.string(prompt)
        c.pointee.transition = transition.cValue()
    }

    init(c: CMessage) throws {
        id = try CField.string(c.id, "Beat.id")
        prompt = try CField.string(c.prompt, "Beat.prompt")
        transition = try Transition(c: c.transition, "Beat.transition")
    }
}
