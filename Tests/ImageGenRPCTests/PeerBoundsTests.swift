import Foundation
import ImageGenRPC
import ImageGenTestSupport
import ImageGenWire
import NIOCore
import Testing

/// Nothing is spent on a caller before it is known, and no peer holds what it does not use:
/// the real `imagegen-server` on loopback against floods, non-readers and greedy peers.
@Suite("Peer bounds (imagegen-server process)", .serialized, .timeLimit(.minutes(3)), .hangWatchdog)
struct PeerBoundsTests {
    static let token = "tok-peer-bounds"

    @Test("1,000 connections that only ping are closed after --auth-timeout while an authenticated client keeps working")
    func preAuthFlood() async throws {
        let authTimeout = 2.0
        let server = try await ServerProcess.start(
            ["--auth-timeout", "\(authTimeout)", "--max-connections", "2000", "--max-connections-per-address", "2000"],
            environment: ["IMAGEGEN_AUTH_TOKEN": Self.token])
        let log = PeerLog()
        let flood = try await PingingPeer.connect(count: 1_000, port: server.port, log: log)
        // A client that calls without the token is no more known than one that pings.
        let stranger = try await RPCClient.connect(host: "127.0.0.1", port: server.port)
        await expectRPCError(.unauthenticated) {
            _ = try await stranger.unary(RPCServer.healthCheckMethod, HealthCheckRequest(), as: HealthCheckResponse.self)
        }
        // The authenticated client calls on one connection all along, past the timeout.
        try await withClient(port: server.port, token: Self.token) { client in
            let started = ContinuousClock.now
            var lastAnswer = started
            while ContinuousClock.now - started < .seconds(authTimeout * 2) || log.closedCount < flood.count {
                let response = try await client.unary(
                    RPCServer.healthCheckMethod, HealthCheckRequest(), as: HealthCheckResponse.self, timeout: .seconds(10))
                #expect(response.status == .serving)
                lastAnswer = .now
                if ContinuousClock.now - started > .seconds(authTimeout + 20) { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            // Every call was answered, on one connection, well past the auth timeout.
            #expect(lastAnswer - started >= .seconds(authTimeout) + .milliseconds(500))
        }
        #expect(log.closedCount == flood.count, "\(log.closedCount) of \(flood.count) closed")
        let lifetimes = log.lifetimes
        #expect(lifetimes.allSatisfy { $0 >= .seconds(authTimeout) - .milliseconds(100) }, "closed early: \(lifetimes.min() ?? .zero)")
        #expect(lifetimes.allSatisfy { $0 < .seconds(authTimeout + 15) }, "closed late: \(lifetimes.max() ?? .zero)")
        // The stranger's connection was closed too.
        await expectRPCError(.unavailable) {
            _ = try await stranger.unary(RPCServer.healthCheckMethod, HealthCheckRequest(), as: HealthCheckResponse.self)
        }
        stranger.close()
        for channel in flood { channel.close(promise: nil) }
        #expect(try await server.stop() == 0)
        #expect(server.process.stderr.contains("no authenticated call within"))
    }

    @Test("a client that sends GetStatus calls and never reads is closed after --write-stall-timeout and its connection freed")
    func nonReadingPeer() async throws {
        let stallTimeout = 2.0
        // Two connections: one for the job's owner, one for the non-reader; a third is refused while both are open.
        let server = try await ServerProcess.start(
            ["--write-stall-timeout", "\(stallTimeout)", "--max-connections", "2", "--log-level", "debug"], environment: ["IMAGEGEN_OFFLINE_LATENCY_MS": "600000"])
        try await withClient(port: server.port) { owner in
            // A job that keeps running (each image takes 10 minutes): its status lists 2,000 beats in three styles.
            let beats = (1...2_000).map { Beat(id: "b\($0)", prompt: "a fox number \($0)") }
            let start = StartGenerationRequest(projectDir: "p", storyboard: .init(shots: [Shot(id: "s", beats: beats)]), detach: true)
            var jobID = ""
            for try await event in try await owner.serverStreaming(
                ImageGenerationMethod.startGeneration.rawValue, start, as: ProgressEvent.self, timeout: .seconds(30))
            {
                jobID = event.jobID
            }
            let request = CallStart(
                method: ImageGenerationMethod.getStatus.rawValue,
                request: GetStatusRequest(target: .jobID(jobID), includeBeats: true).serializedBytes(), timeoutMilliseconds: 0,
                metadata: [:])
            // About 1 MB of answers: more than the sockets between the two can hold.
            let calls = (1...6_000).flatMap { Frame(callID: UInt64($0), kind: .start(request)).framedBytes() }
            let log = PeerLog()
            let peer = try await NonReadingPeer.connect(port: server.port, log: log)

            // Once the server has registered it (its debug log says so), the peer holds the second
            // connection and a third client is refused: the test is not vacuous.
            let peerPort = try #require(peer.localAddress?.port)
            try await waitUntil(timeout: .seconds(10)) {
                server.process.stderr.split(separator: "\n").contains { $0.contains("connection opened") && $0.contains("127.0.0.1:\(peerPort) ") }
            }
            let refused = try await RawConnection.with(port: server.port) { raw in try await raw.readUntilClosed(timeout: .seconds(5)) }
            guard case .status(let status)? = refused.frames.first?.kind else {
                Issue.record("expected a refusal, got \(refused.frames)")
                return
            }
            #expect(status.code == RPCError.Code.resourceExhausted.rawValue)

            // Now the calls, whose answers it never reads.
            let started = ContinuousClock.now
            peer.writeAndFlush(ByteBuffer(bytes: calls), promise: nil)

            // The server says it closed the stalled peer (the peer, reading nothing, cannot notice yet)...
            let closing = "closing connection: the peer took no bytes for"
            try await waitUntil(timeout: .seconds(30)) { server.process.stderr.contains(closing) }
            let closedAfter = ContinuousClock.now - started
            #expect(closedAfter >= .seconds(stallTimeout))
            // ...and it did: once the peer reads, it finds its connection closed.
            try? await peer.setOption(.autoRead, value: true).get()  // fails if its own write already found the connection reset
            try await log.waitForClosed(1, timeout: .seconds(10))
            #expect(log.isClosed(0), "the non-reading peer is still connected after \(ContinuousClock.now - started)")
            // Its calls ended and its connection is gone: a new client gets the second connection.
            try await waitUntil(timeout: .seconds(10), "no new client got the freed connection; server log tail: \(server.process.stderr.suffix(3000))") {
                (try? await withClient(port: server.port) { client in
                    try await client.unary(
                        ImageGenerationMethod.getStatus.rawValue, GetStatusRequest(target: .jobID(jobID)), as: JobStatus.self,
                        timeout: .seconds(10))
                }) != nil
            }
            peer.close(promise: nil)
        }
        #expect(try await server.stop() == 0)
    }

    @Test("connections over --max-connections-per-address are refused RESOURCE_EXHAUSTED; the others go on")
    func perAddressCap() async throws {
        let server = try await ServerProcess.start(["--max-connections-per-address", "3"])
        let clients = try await (0..<3).asyncMap { _ in try await RPCClient.connect(host: "127.0.0.1", port: server.port) }
        for client in clients {
            _ = try await client.unary(RPCServer.healthCheckMethod, HealthCheckRequest(), as: HealthCheckResponse.self)
        }
        let refused = try await RawConnection.with(port: server.port) { raw in try await raw.readUntilClosed(timeout: .seconds(5)) }
        #expect(refused.closed)
        guard case .status(let status)? = refused.frames.first?.kind else {
            Issue.record("expected a refusal, got \(refused.frames)")
            return
        }
        #expect(status.code == RPCError.Code.resourceExhausted.rawValue)
        #expect(status.message.contains("too many connections from 127.0.0.1 (limit 3)"), "\(status.message)")
        // The three still work; closing one makes room for a new one.
        for client in clients {
            _ = try await client.unary(RPCServer.healthCheckMethod, HealthCheckRequest(), as: HealthCheckResponse.self)
        }
        clients[0].close()
        try await waitUntil(timeout: .seconds(10)) {
            (try? await withClient(port: server.port) { client in
                try await client.unary(RPCServer.healthCheckMethod, HealthCheckRequest(), as: HealthCheckResponse.self)
            }) != nil
        }
        for client in clients { client.close() }
        #expect(try await server.stop() == 0)
    }

    @Test("past --buffer-budget-bytes a peer's next bytes are refused RESOURCE_EXHAUSTED, and the frame already held completes")
    func globalBufferBudget() async throws {
        let server = try await ServerProcess.start(["--buffer-budget-bytes", "1000000"])
        // Two frames of 800 KB and 400 KB, each sent but for its last bytes: together over the budget.
        let big = Self.frame(callID: 1, payload: 800_000)
        let small = Self.frame(callID: 1, payload: 400_000)
        try await RawConnection.with(port: server.port) { first in
            try await RawConnection.with(port: server.port) { second in
                // The side that goes over the budget may be refused and closed while its bytes are
                // still being written: its send then fails, which is the refusal this test expects.
                for (connection, bytes) in [(first, Array(big.dropLast(100))), (second, Array(small.dropLast(100)))] {
                    do { try await connection.send(bytes) } catch let error as ChannelError where error == .ioOnClosedChannel {}
                }
                // Exactly one of them is refused and closed; the other's frame stays held.
                try await waitUntil(timeout: .seconds(10)) { first.isClosed || second.isClosed }
                let (refused, kept, rest) = first.isClosed ? (first, second, Array(small.suffix(100))) : (second, first, Array(big.suffix(100)))
                let refusal = try await refused.readUntilClosed(timeout: .seconds(5))
                guard case .status(let status)? = refusal.frames.first?.kind else {
                    Issue.record("expected a refusal, got \(refusal.frames)")
                    return
                }
                #expect(status.code == RPCError.Code.resourceExhausted.rawValue)
                #expect(status.message.contains("1000000 bytes"), "\(status.message)")
                // Other clients are served meanwhile.
                try await expectHealthy(port: server.port)
                // The survivor completes its frame and gets its call answered.
                try await kept.send(rest)
                let answer = try await kept.readFrames(1, timeout: .seconds(10))
                guard case .status(let answered)? = answer.first?.kind else {
                    Issue.record("expected an answer, got \(answer)")
                    return
                }
                #expect(answered.code == RPCError.Code.unimplemented.rawValue)
                #expect(!kept.isClosed)
            }
        }
        #expect(try await server.stop() == 0)
    }

    /// A whole frame calling an unknown method with a request of `payload` bytes.
    static func frame(callID: UInt64, payload: Int) -> [UInt8] {
        Frame(
            callID: callID,
            kind: .start(CallStart(method: "test.Budget/Big", request: [UInt8](repeating: 7, count: payload), timeoutMilliseconds: 0, metadata: [:]))
        ).framedBytes()
    }

    @Test(
        "a non-loopback address needs IMAGEGEN_AUTH_TOKEN or --allow-unauthenticated",
        arguments: [
            ("0.0.0.0:0", false, false, false),
            ("[::]:0", false, false, false),
            ("0.0.0.0:0", true, false, true),
            ("0.0.0.0:0", false, true, true),
            ("127.0.0.1:0", false, false, true),
            ("localhost:0", false, false, true),
        ])
    func nonLoopbackNeedsAuth(listen: String, token: Bool, allowFlag: Bool, starts: Bool) async throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("imagegen-listen-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: base.appendingPathComponent("projects"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: base) }
        let server = try ChildProcess(
            "imagegen-server",
            arguments: [
                "--listen", listen, "--projects-root", base.appendingPathComponent("projects").path,
                "--state-dir", base.appendingPathComponent("state").path,
            ] + (allowFlag ? ["--allow-unauthenticated"] : []),
            environment: ["IMAGEGEN_AUTH_TOKEN": token ? Self.token : nil])
        if starts {
            _ = try await server.port()
            #expect(try await server.stop() == 0)
        } else {
            #expect(try await server.waitForExit() != 0)
            // The pipe's last bytes can arrive after the exit is seen.
            try await waitUntil(timeout: .seconds(5)) { server.stderr.contains("--allow-unauthenticated") }
            #expect(server.stderr.contains("is not a loopback address"), "\(server.stderr)")
            #expect(server.stderr.contains("--allow-unauthenticated"))
            #expect(!server.stdout.contains("listening on"))
        }
    }
}

/// The flags of the bounds, refused when out of range.
@Suite("Bounds flags", .timeLimit(.minutes(1)), .hangWatchdog)
struct BoundsFlagsTests {
    @Test("out-of-range bounds are refused with a message naming the flag", arguments: [
        "--auth-timeout", "--write-stall-timeout", "--max-connections-per-address", "--buffer-budget-bytes",
        "--max-method-bytes", "--max-metadata-entries", "--max-metadata-bytes", "--max-beats", "--max-prompt-bytes",
    ])
    func refused(flag: String) async throws {
        let server = try ChildProcess("imagegen-server", arguments: ["--listen", "127.0.0.1:0", flag, "0"])
        #expect(try await server.waitForExit() != 0)
        try await waitUntil(timeout: .seconds(5)) { server.stderr.contains(flag) }
        #expect(!server.stdout.contains("listening on"))
    }
}

/// Waits until `condition` holds, checking every 20 ms; fails the test after `timeout`.
func waitUntil(
    timeout: Duration, _ what: @autoclosure () -> String = "", sourceLocation: SourceLocation = #_sourceLocation,
    _ condition: () async throws -> Bool
) async throws {
    let deadline = ContinuousClock.now + timeout
    while try await !condition() {
        guard ContinuousClock.now < deadline else {
            let detail = what()
            Issue.record("the condition did not hold within \(timeout)\(detail.isEmpty ? "" : ": \(detail)")", sourceLocation: sourceLocation)
            return
        }
        try await Task.sleep(for: .milliseconds(20))
    }
}

extension Sequence where Element: Sendable {
    /// `transform` applied to each element in order.
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var result: [T] = []
        for element in self { result.append(try await transform(element)) }
        return result
    }
}
