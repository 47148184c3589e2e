import ImageGenWire
import Synchronization

/// Whether the server still serves: true until a graceful shutdown begins.
final class ServingFlag: Sendable {
    private let serving = Mutex(true)
    var isServing: Bool { serving.withLock { $0 } }
    func stop() { serving.withLock { $0 = false } }
}

extension RPCRouter {
    /// Registers `imagegen.v1.Health/Check`, like grpc.health.v1: SERVING for the server ("") and for
    /// every registered service until shutdown begins, then NOT_SERVING; NOT_FOUND for other names.
    mutating func registerHealth(serving: ServingFlag) {
        let known = services.union(["imagegen.v1.Health"])
        registerUnary(RPCServer.healthCheckMethod, HealthCheckRequest.self) { request, _ in
            guard request.service.isEmpty || known.contains(request.service) else {
                throw RPCError(.notFound, "unknown service \"\(request.service)\"; known: \(known.sorted().joined(separator: ", "))")
            }
            return HealthCheckResponse(status: serving.isServing ? .serving : .notServing)
        }
    }
}
