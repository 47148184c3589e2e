import ImageGenRPC
import ImageGenWire
import Logging
import ImageGenTestSupport
import Testing

/// Waits that end when their task is cancelled, though nothing they wait for ever comes.
@Suite("Waits return on cancellation", .timeLimit(.minutes(1)), .hangWatchdog)
struct CancellationTests {
    @Test("RPCClient.ping() throws CancellationError when its task is cancelled, against a peer that never answers", arguments: [false, true])
    func pingCancelled(cancelFirst: Bool) async throws {
        try await withSilentPeer { port in
            let client = try await RPCClient.connect(host: "127.0.0.1", port: port)
            defer { client.close() }
            let result = await Self.cancelled(cancelFirst: cancelFirst) { try await client.ping() }
            #expect(result is CancellationError, "\(String(describing: result))")
        }
    }

    @Test("RPCServer.listeningAddress throws CancellationError when its task is cancelled, before the server runs", arguments: [false, true])
    func listeningAddressCancelled(cancelFirst: Bool) async throws {
        var logger = Logger(label: "test-server")
        logger.logLevel = .critical
        let server = RPCServer(configuration: RPCServerConfiguration(), router: RPCRouter(), logger: logger)
        let result = await Self.cancelled(cancelFirst: cancelFirst) { _ = try await server.listeningAddress }
        #expect(result is CancellationError, "\(String(describing: result))")
        // Other waiters are not disturbed: the next one gets the address once the server runs.
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.run() }
            let port = try await server.listeningAddress.port
            #expect(port > 0)
            group.cancelAll()
        }
    }

    /// Runs `wait` in a child task, cancels it (before it starts, or once it is waiting), and
    /// returns what it threw (nil if it returned).
    static func cancelled(cancelFirst: Bool, _ wait: @escaping @Sendable () async throws -> Void) async -> (any Error)? {
        await withTaskGroup(of: (any Error)?.self) { group in
            if cancelFirst { group.cancelAll() }
            group.addTask {
                do {
                    try await wait()
                    return nil
                } catch {
                    return error
                }
            }
            if !cancelFirst {
                // Give the wait a moment to register before it is cancelled; either order must end it.
                await Task.yield()
                group.cancelAll()
            }
            return await group.next() ?? nil
        }
    }
}
