import ImageGenInterop
import ImageGenRPC
import ImageGenWire
import Logging
import ImageGenTestSupport
import Testing

/// Calls that race a server's stop. A connection that the kernel had accepted, but the serving loop
/// had not yet taken, when the listener closed used to stay open with nobody reading or closing it:
/// a call sent on it waited forever, with no thread busy and nothing scheduled (the hang the suite
/// showed about one run in nine, in "a handler that ignores shutdown is cut off after the grace
/// period"). Whatever the moment, every call must end.
@Suite("Calls race a shutdown", .serialized, .timeLimit(.minutes(3)), .hangWatchdog)
struct ShutdownRaceTests {
    /// What one round saw.
    enum Event: Sendable {
        case serverStopped
        case callEnded(String)
        case stillOpen
    }

    @Test("a call sent as the server stops always ends, 200 rounds", arguments: [0, 1, 3])
    func callsSentWhileTheServerStopsEnd(yieldsBeforeStop: Int) async throws {
        var logger = Logger(label: "shutdown-race")
        logger.logLevel = .critical
        var outcomes: [String: Int] = [:]
        for round in 0..<200 {
            let server = RPCServer(
                configuration: RPCServerConfiguration(shutdownGracePeriod: .milliseconds(200)),
                router: TestService.router(), logger: logger)
            let outcome = try await withThrowingTaskGroup(of: Event.self) { group -> String? in
                group.addTask {
                    try await server.run()
                    return .serverStopped
                }
                let port = try await server.listeningAddress.port
                let client = try await RPCClient.connect(host: "127.0.0.1", port: port)
                defer { client.close() }
                // No deadline: only the server's stop can end this call.
                group.addTask { .callEnded(await Self.outcome(of: client)) }
                for _ in 0..<yieldsBeforeStop { await Task.yield() }
                server.beginGracefulShutdown()
                group.addTask {
                    try await Task.sleep(for: .seconds(10))
                    return .stillOpen
                }
                var stopped = false
                var outcome: String?
                while !stopped || outcome == nil, let event = try await group.next() {
                    switch event {
                    case .serverStopped: stopped = true
                    case .callEnded(let ended): outcome = ended
                    case .stillOpen:
                        Issue.record("round \(round): 10 s after the stop, server stopped: \(stopped), call ended: \(outcome ?? "no")")
                        group.cancelAll()
                        return nil
                    }
                }
                group.cancelAll()
                return outcome
            }
            guard let outcome else { return }
            outcomes[outcome, default: 0] += 1
        }
        // A call the stop cut off, or one refused because the server was going away; never an answer.
        #expect(Set(outcomes.keys).isSubset(of: ["UNAVAILABLE"]), "\(outcomes)")
    }

    /// How a call that sleeps a minute ended: its status code's name.
    static func outcome(of client: RPCClient) async -> String {
        do {
            _ = try await client.unary(TestService.sleep, CallStatus(code: 60_000, message: ""), as: CallStatus.self)
            return "answered"
        } catch let error as RPCError {
            return "\(error.code)"
        } catch {
            return "\(error)"
        }
    }
}
