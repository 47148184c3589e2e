internal import CImageGenWire

/// What a job renders (`imagegen.v1.Storyboard`): shots of beats.
public struct Storyboard: WireMessage {
    /// The storyboard's shots, in order.
    public var shots: [Shot]

    public init(shots: [Shot] = []) {
        self.shots = shots
    }

    public init(serializedBytes bytes: [UInt8], limits: DecodeLimits) throws {
        try self.init(unpacking: bytes, limits: limits, name: "Storyboard")
    }

    public func serializedBytes() -> [UInt8] { packedBytes() }
}

extension Storyboard: ProtobufCConvertible {
    typealias CMessage = Imagegen__V1__Storyboard

    static func initialize(_ message: UnsafeMutablePointer<CMessage>) { imagegen__v1__storyboard__init(message) }

    func fill(_ c: UnsafeMutablePointer<CMessage>, arena: CArena) {
        (c.pointee.n_shots, c.pointee.shots) = arena.messages(shots)
    }

    init(c: CMessage) throws {
        shots = try CField.messages(c.n_shots, c.shots, as: Shot.self)
    }
}
