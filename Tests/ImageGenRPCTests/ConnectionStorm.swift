import NIOCore
import NIOPosix
import Synchronization

/// Clients that connect to a port and disconnect again in a tight loop, for as long as `body` runs.
/// Refused connections (the server is not listening) are counted, not thrown.
final class ConnectionStorm: Sendable {
    private let counts = Mutex((connected: 0, refused: 0))

    /// Connections that were established (and then closed by the storm).
    var connected: Int { counts.withLock { $0.connected } }
    /// Connection attempts that failed.
    var refused: Int { counts.withLock { $0.refused } }

    /// Runs `clients` connecting loops against 127.0.0.1:`port` while `body` runs; each connection
    /// optionally sends `bytes` before it closes.
    static func run<R: Sendable>(
        port: Int, clients: Int = 8, sending bytes: [UInt8] = [], _ body: (ConnectionStorm) async throws -> R
    ) async throws -> R {
        let storm = ConnectionStorm()
        return try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<clients {
                group.addTask {
                    while !Task.isCancelled { await storm.connectOnce(port: port, sending: bytes) }
                }
            }
            defer { group.cancelAll() }
            return try await body(storm)
        }
    }

    /// Waits until at least `count` connections were established, or `timeout` passed.
    func waitForConnections(_ count: Int, timeout: Duration = .seconds(10)) async throws {
        let deadline = ContinuousClock.now + timeout
        let target = connected + count
        while connected < target, ContinuousClock.now < deadline {
            try await Task.sleep(for: .microseconds(200))
        }
    }

    private func connectOnce(port: Int, sending bytes: [UInt8]) async {
        do {
            let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connectTimeout(.seconds(2))
                .connect(host: "127.0.0.1", port: port).get()
            counts.withLock { $0.connected += 1 }
            if !bytes.isEmpty { try? await channel.writeAndFlush(ByteBuffer(bytes: bytes)).get() }
            try? await channel.close().get()
        } catch {
            counts.withLock { $0.refused += 1 }
            // The listener is gone: do not spin at full speed against a closed port.
            try? await Task.sleep(for: .milliseconds(1))
        }
    }
}
