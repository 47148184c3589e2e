public import ImageGenWire

/// The error of a call: a gRPC status code other than OK, a message a person can act on, and the
/// error that caused it, when there was one.
///
/// Handlers throw it to end a call with a specific code; clients receive it when a call ends with
/// anything but OK. Other errors thrown by a handler end the call with `UNKNOWN`, unless they
/// conform to ``RPCErrorConvertible``. Only `code` and `message` go on the wire; `cause` stays in
/// the process that made the error (for logs and for callers that look into it), and equality
/// compares code and message only.
///
/// ```swift
/// do { ... } catch let error as RPCError where error.code == .unavailable {
///     print(error.message, error.cause.map { "(cause: \($0))" } ?? "")
/// }
/// ```
public struct RPCError: Error, Sendable, Equatable, CustomStringConvertible {
    /// gRPC's status codes other than OK, with gRPC's meaning for each. OK is not an error: a
    /// status with code 0 has no `Code` (``init(rawValue:)`` answers nil).
    public struct Code: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
        public let rawValue: UInt32
        /// The code for a status's number; nil for 0 (OK).
        public init?(rawValue: UInt32) {
            guard rawValue != 0 else { return nil }
            self.rawValue = rawValue
        }

        private init(_ rawValue: UInt32) { self.rawValue = rawValue }

        public static let cancelled = Code(1)
        public static let unknown = Code(2)
        public static let invalidArgument = Code(3)
        public static let deadlineExceeded = Code(4)
        public static let notFound = Code(5)
        public static let alreadyExists = Code(6)
        public static let permissionDenied = Code(7)
        public static let resourceExhausted = Code(8)
        public static let failedPrecondition = Code(9)
        public static let aborted = Code(10)
        public static let outOfRange = Code(11)
        public static let unimplemented = Code(12)
        public static let internalError = Code(13)
        public static let unavailable = Code(14)
        public static let dataLoss = Code(15)
        public static let unauthenticated = Code(16)

        private static let names = [
            "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
            "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED",
            "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED",
        ]

        /// The gRPC name, e.g. "DEADLINE_EXCEEDED".
        public var description: String {
            rawValue < Self.names.count ? Self.names[Int(rawValue)] : "CODE_\(rawValue)"
        }
    }

    public var code: Code
    public var message: String
    /// The error this one was made from (a socket error, a decode error, a handler's own error),
    /// when there was one. It is not sent to the peer.
    public var cause: (any Error)?

    /// The most bytes of a status message on the wire. Longer messages are cut at a UTF-8 boundary
    /// (ending in "…") where every frame is encoded, so no status can outgrow a peer's frame limit.
    public static let maxMessageBytes = 8 * 1024

    public init(_ code: Code, _ message: String, cause: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.cause = cause
    }

    /// The error a status ends a call with; nil for OK.
    public init?(status: CallStatus) {
        guard let code = Code(rawValue: status.code) else { return nil }
        self.init(code, status.message)
    }

    /// The status that ends a call with this error.
    public var status: CallStatus { CallStatus(code: code.rawValue, message: message) }

    public var description: String { "\(code): \(message)" }

    public static func == (lhs: RPCError, rhs: RPCError) -> Bool {
        lhs.code == rhs.code && lhs.message == rhs.message
    }
}

/// An error that knows which status a call should end with.
public protocol RPCErrorConvertible: Error {
    var rpcError: RPCError { get }
}

extension RPCError {
    /// The status a call ends with when its handler throws `error`.
    public init(mapping error: any Error) {
        switch error {
        case let error as RPCError:
            self = error
        case let error as any RPCErrorConvertible:
            self = error.rpcError
        case is CancellationError:
            self = RPCError(.cancelled, "call cancelled", cause: error)
        default:
            self = RPCError(.unknown, String(describing: error), cause: error)
        }
    }
}
