/// Told of every call the server ends, for metrics: the method (registered names only, "unknown"
/// otherwise, so a client cannot grow the set), its status code name ("OK", "NOT_FOUND", …) and
/// how long it ran from admission to its status. Called on the call's task; keep it cheap.
public protocol RPCCallObserver: Sendable {
    func callEnded(method: String, code: String, duration: Duration)
}
