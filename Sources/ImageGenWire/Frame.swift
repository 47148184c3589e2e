internal import CImageGenWire

/// One unit on the wire (`imagegen.v1.Frame`): a call's start, one response message, its final
/// status, a cancellation, or a connection-level ping, pong or goaway.
public struct Frame: WireMessage {
    /// What the frame carries.
    public enum Kind: Sendable, Equatable {
        /// Client → server: opens `callID`.
        case start(CallStart)
        /// Server → client: one serialized response message of `callID`.
        case message([UInt8])
        /// Server → client: ends `callID` (or, with call id 0, the connection).
        case status(CallStatus)
        /// Client → server: asks the server to stop `callID`.
        case cancel
        /// Either way: asks the peer to answer `pong` with the same nonce.
        case ping(nonce: UInt64)
        /// Either way: the answer to `ping`.
        case pong(nonce: UInt64)
        /// Server → client: no new calls on this connection.
        case goAway(reason: String)
    }

    public var callID: UInt64
    /// nil when the frame carries nothing (a peer running a newer protocol, or a broken one).
    public var kind: Kind?

    public init(callID: UInt64, kind: Kind?) {
        self.callID = callID
        self.kind = kind
    }

    public init(serializedBytes bytes: [UInt8], limits: DecodeLimits) throws {
        try self.init(unpacking: bytes, limits: limits, name: "Frame")
    }

    public func serializedBytes() -> [UInt8] { packedBytes() }
}

extension Frame: ProtobufCConvertible {
    typealias CMessage = Imagegen__V1__Frame

    static func initialize(_ message: UnsafeMutablePointer<CMessage>) { imagegen__v1__frame__init(message) }

    func fill(_ c: UnsafeMutablePointer<CMessage>, arena: CArena) {
        c.pointee.call_id = callID
        switch kind {
        case nil:
            c.pointee.kind_case = IMAGEGEN__V1__FRAME__KIND__NOT_SET
        case .start(let start):
            c.pointee.kind_case = IMAGEGEN__V1__FRAME__KIND_START
            c.pointee.start = arena.message(start)
        case .message(let bytes):
            c.pointee.kind_case = IMAGEGEN__V1__FRAME__KIND_MESSAGE
            c.pointee.message = arena.binary(bytes)
        case .status(let status):
            c.pointee.kind_case = IMAGEGEN__V1__FRAME__KIND_STATUS
            c.pointee.status = arena.message(status)
        case .cancel:
            c.pointee.kind_case = IMAGEGEN__V1__FRAME__KIND_CANCEL
            let cancel = arena.allocate(Imagegen__V1__CallCancel.self)
            imagegen__v1__call_cancel__init(cancel)
            c.pointee.cancel = cancel
        case .ping(let nonce):
            c.pointee.kind_case = IMAGEGEN__V1__FRAME__KIND_PING
            c.pointee.ping = Self.ping(nonce, arena: arena)
        case .pong(let nonce):
            c.pointee.kind_case = IMAGEGEN__V1__FRAME__KIND_PONG
            c.pointee.pong = Self.ping(nonce, arena: arena)
        case .goAway(let reason):
            c.pointee.kind_case = IMAGEGEN__V1__FRAME__KIND_GOAWAY
            let goAway = arena.allocate(Imagegen__V1__GoAway.self)
            imagegen__v1__go_away__init(goAway)
            goAway.pointee.reason = arena.string(reason)
            c.pointee.goaway = goAway
        }
    }

    private static func ping(_ nonce: UInt64, arena: CArena) -> UnsafeMutablePointer<Imagegen__V1__Ping> {
        let ping = arena.allocate(Imagegen__V1__Ping.self)
        imagegen__v1__ping__init(ping)
        ping.pointee.nonce = nonce
        return ping
    }

    init(c: CMessage) throws {
        callID = c.call_id
        switch c.kind_case {
        case IMAGEGEN__V1__FRAME__KIND_START:
            kind = try c.start.map { .start(try CallStart(c: $0.pointee)) } ?? .start(CallStart(method: ""))
        case IMAGEGEN__V1__FRAME__KIND_MESSAGE:
            kind = .message(CField.bytes(c.message))
        case IMAGEGEN__V1__FRAME__KIND_STATUS:
            kind = try c.status.map { .status(try CallStatus(c: $0.pointee)) } ?? .status(CallStatus(code: 0, message: ""))
        case IMAGEGEN__V1__FRAME__KIND_CANCEL:
            kind = .cancel
        case IMAGEGEN__V1__FRAME__KIND_PING:
            kind = .ping(nonce: c.ping?.pointee.nonce ?? 0)
        case IMAGEGEN__V1__FRAME__KIND_PONG:
            kind = .pong(nonce: c.pong?.pointee.nonce ?? 0)
        case IMAGEGEN__V1__FRAME__KIND_GOAWAY:
            kind = .goAway(reason: try CField.string(c.goaway?.pointee.reason, "GoAway.reason"))
        default:
            kind = nil
        }
    }
}
