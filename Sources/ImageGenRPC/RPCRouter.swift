public import ImageGenWire

/// Maps full method names to handlers. Build it once, hand it to the server.
///
/// ```swift
/// var router = RPCRouter()
/// router.registerUnary("imagegen.v1.Health/Check", HealthCheckRequest.self) { request, context in
///     HealthCheckResponse(status: .serving)
/// }
/// ```
public struct RPCRouter: Sendable {
    /// Whether a method answers once or streams.
    public enum Kind: Sendable { case unary, serverStreaming }

    struct Route: Sendable {
        let kind: Kind
        let run: @Sendable (_ request: [UInt8], _ limits: DecodeLimits, _ context: ServerContext, _ sink: CallSink) async throws -> Void
    }

    private(set) var routes: [String: Route] = [:]

    public init() {}

    /// The registered method names, sorted.
    public var methods: [String] { routes.keys.sorted() }

    /// Whether `method` answers once or streams; nil when it is not registered.
    public func kind(of method: String) -> Kind? { routes[method]?.kind }

    /// The service names ("imagegen.v1.Health") of the registered methods.
    public var services: Set<String> {
        Set(routes.keys.compactMap { $0.split(separator: "/").first.map(String.init) })
    }

    /// Registers a method that takes one request and answers one response.
    public mutating func registerUnary<Request: WireMessage, Response: WireMessage>(
        _ method: String, _ requestType: Request.Type,
        handler: @escaping @Sendable (Request, ServerContext) async throws -> Response
    ) {
        routes[method] = Route(kind: .unary) { bytes, limits, context, sink in
            // A call whose connection closed before its turn does no work, and one whose
            // connection closed while it ran does not encode an answer no one can receive (a
            // status can be megabytes): on a busy server, the calls a stalled peer left queued
            // would otherwise hold the threads (and its connection slot) for seconds.
            try context.checkDeliverable()
            let request = try Self.decode(Request.self, bytes, limits, method)
            let response = try await handler(request, context)
            try context.checkDeliverable()
            try await sink.send([EncodedMessage(response).frameField])
        }
    }

    /// Registers a method that takes one request and streams responses until it returns.
    public mutating func registerServerStreaming<Request: WireMessage, Response: WireMessage>(
        _ method: String, _ requestType: Request.Type, _ responseType: Response.Type,
        handler: @escaping @Sendable (Request, ServerContext, ResponseStreamWriter<Response>) async throws -> Void
    ) {
        routes[method] = Route(kind: .serverStreaming) { bytes, limits, context, sink in
            let request = try Self.decode(Request.self, bytes, limits, method)
            try await handler(request, context, ResponseStreamWriter(sink: sink))
        }
    }

    func route(for method: String) -> Route? { routes[method] }

    private static func decode<Request: WireMessage>(
        _ type: Request.Type, _ bytes: [UInt8], _ limits: DecodeLimits, _ method: String
    ) throws -> Request {
        do {
            return try Request(serializedBytes: bytes, limits: limits)
        } catch let error as WireError {
            let code: RPCError.Code = error.code == .budgetExceeded ? .resourceExhausted : .invalidArgument
            throw RPCError(code, "\(method): the request does not decode: \(error.message)", cause: error)
        }
    }
}

/// A group of methods that registers itself on a router.
public protocol RPCService: Sendable {
    func register(into router: inout RPCRouter)
}
