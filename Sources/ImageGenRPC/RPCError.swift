/// The error of a call: a gRPC status code and a message a person can act on.
///
/// Handlers throw it to end a call with a specific code; clients receive it when a call ends with
/// anything but OK. Other errors thrown by a handler end the call with `UNKNOWN`, unless they
/// conform to ``RPCErrorConvertible``.
public struct RPCError: Error, Sendable, Equatable, CustomStringConvertible {
    /// gRPC's status codes, with gRPC's meaning for each.
    public struct Code: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
        public var rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }

        public static let ok = Code(rawValue: 0)
        public static let cancelled = Code(rawValue: 1)
        public static let unknown = Code(rawValue: 2)
        public static let invalidArgument = Code(rawValue: 3)
        public static let deadlineExceeded = Code(rawValue: 4)
        public static let notFound = Code(rawValue: 5)
        public static let alreadyExists = Code(rawValue: 6)
        public static let permissionDenied = Code(rawValue: 7)
        public static let resourceExhausted = Code(rawValue: 8)
        public static let failedPrecondition = Code(rawValue: 9)
        public static let aborted = Code(rawValue: 10)
        public static let outOfRange = Code(rawValue: 11)
        public static let unimplemented = Code(rawValue: 12)
        public static let internalError = Code(rawValue: 13)
        public static let unavailable = Code(rawValue: 14)
        public static let dataLoss = Code(rawValue: 15)
        public static let unauthenticated = Code(rawValue: 16)

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

    /// The most bytes of a status message on the wire. Longer messages are cut at a UTF-8 boundary
    /// (ending in "…") where every frame is encoded, so no status can outgrow a peer's frame limit.
    public static let maxMessageBytes = 8 * 1024

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code): \(message)" }
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
            self = RPCError(.cancelled, "call cancelled")
        default:
            self = RPCError(.unknown, String(describing: error))
        }
    }
}
