internal import CImageGenWire

/// A sequence of beats (`imagegen.v1.Shot`).
public struct Shot: WireMessage {
    /// `[A-Za-z0-9._-]{1,64}`, not "." or ".."; unique in the storyboard.
    public var id: String
    /// The shot's beats, in order.
    public var beats: [Beat]

    public init(id: String = "", beats: [Beat] = []) {
        self.id = id
        self.beats = beats
    }

    public init(serializedBytes bytes: [UInt8], limits: DecodeLimits) throws {
        try self.init(unpacking: bytes, limits: limits, name: "Shot")
    }

    public func serializedBytes() -> [UInt8] { packedBytes() }
}

extension Shot: ProtobufCConvertible {
    typealias CMessage = Imagegen__V1__Shot

    static func initialize(_ message: UnsafeMutablePointer<CMessage>) { imagegen__v1__shot__init(message) }

    func fill(_ c: UnsafeMutablePointer<CMessage>, arena: CArena) {
        c.pointee.id = arena.string(id)
        (c.pointee.n_beats, c.pointee.beats) = arena.messages(beats)
    }

    init(c: CMessage) throws {
        id = try CField.string(c.id, "Shot.id")
        beats = try CField.messages(c.n_beats, c.beats, as: Beat.self)
    }
}
