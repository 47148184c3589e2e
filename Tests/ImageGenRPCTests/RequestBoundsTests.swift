import Foundation
import ImageGenRPC
import ImageGenWire
import ImageGenTestSupport
import Testing

/// Oversized and amplifying requests against the real `imagegen-server` on loopback: every answer
/// is bounded, the caps are the flags', and the server goes on serving.
@Suite("Request and answer bounds (imagegen-server process)", .timeLimit(.minutes(3)), .hangWatchdog)
struct RequestBoundsTests {
    static let maxBeats = 1_000
    static let maxPromptBytes = 4_096
    static let flags = ["--max-beats", "\(maxBeats)", "--max-prompt-bytes", "\(maxPromptBytes)"]

    /// A storyboard to send, and what the answer must say.
    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var storyboard: ImageGenWire.Storyboard
        /// Problems the storyboard has in all (each beat is checked for its id and its prompt).
        var problems: Int
        /// Text the status message must contain.
        var says: String
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        // The issue's request: 400 KB of empty beats used to be answered with 28.8 MB.
        Case(
            name: "200,000 empty beats", storyboard: .init(shots: [Shot(id: "s", beats: Array(repeating: Beat(), count: 200_000))]),
            problems: 1 + 2 * 200_000, says: "storyboard has 200000 beats (at most \(maxBeats) are allowed)"),
        Case(
            name: "one beat over the beat cap",
            storyboard: .init(shots: [Shot(id: "s", beats: (0...maxBeats).map { Beat(id: "b\($0)", prompt: "a fox") })]),
            problems: 1, says: "storyboard has \(maxBeats + 1) beats (at most \(maxBeats) are allowed)"),
        Case(
            name: "a prompt one byte over the cap",
            storyboard: .init(shots: [Shot(id: "s", beats: [Beat(id: "b", prompt: String(repeating: "é", count: maxPromptBytes / 2) + "x")])]),
            problems: 1, says: "shot s, beat b: prompt is \(maxPromptBytes + 1) bytes (at most \(maxPromptBytes) are allowed)"),
    ]

    @Test("an invalid storyboard is answered INVALID_ARGUMENT with at most 20 problems and how many more", arguments: cases)
    func oversizedStoryboard(_ testCase: Case) async throws {
        let server = try await ServerProcess.start(Self.flags)
        try await withClient(port: server.port) { client in
            let request = StartGenerationRequest(projectDir: "p", storyboard: testCase.storyboard)
            let error = await expectRPCError(.invalidArgument) {
                let stream = try await client.serverStreaming(
                    ImageGenerationMethod.startGeneration.rawValue, request, as: ProgressEvent.self, timeout: .seconds(30))
                for try await _ in stream {}
            }
            let message = error?.message ?? ""
            #expect(message.utf8.count <= RPCError.maxMessageBytes)
            #expect(message.hasPrefix("storyboard has \(testCase.problems) problem"), "\(message.prefix(300))")
            #expect(message.contains(testCase.says), "\(message.prefix(300))")
            let listed = min(testCase.problems, 20)
            if testCase.problems > listed {
                #expect(message.hasSuffix("; and \(testCase.problems - listed) more problems"), "\(message.suffix(200))")
            }
            #expect(message.components(separatedBy: "; ").count == listed + (testCase.problems > listed ? 1 : 0))
        }
        try await expectHealthy(port: server.port)
        #expect(try await server.stop() == 0)
    }

    @Test("a storyboard at the caps is accepted")
    func storyboardAtTheCaps() async throws {
        let server = try await ServerProcess.start(Self.flags)
        try await withClient(port: server.port) { client in
            let beats = (1...Self.maxBeats).map { Beat(id: "b\($0)", prompt: $0 == 1 ? String(repeating: "x", count: Self.maxPromptBytes) : "a fox") }
            let request = StartGenerationRequest(
                projectDir: "p", storyboard: .init(shots: [Shot(id: "s", beats: beats)]), styles: ["clear"], detach: true)
            let stream = try await client.serverStreaming(
                ImageGenerationMethod.startGeneration.rawValue, request, as: ProgressEvent.self, timeout: .seconds(30))
            var events = 0
            for try await _ in stream { events += 1 }
            #expect(events == 1)  // the accepted event of a detached start
        }
        #expect(try await server.stop() == 0)
    }

    /// A call's method name and metadata, and the status the server must answer.
    struct CallCase: Sendable, CustomTestStringConvertible {
        var name: String
        var method: String
        var metadata: [String: String]
        /// nil: the call is admitted (and answered by Health).
        var refusal: RPCError.Code?
        var testDescription: String { name }
    }

    static let health = RPCServer.healthCheckMethod
    static let callCases: [CallCase] = [
        CallCase(name: "64 metadata entries", method: health, metadata: entries(64, valueBytes: 8), refusal: nil),
        CallCase(name: "65 metadata entries", method: health, metadata: entries(65, valueBytes: 8), refusal: .resourceExhausted),
        CallCase(name: "16 KiB of metadata", method: health, metadata: ["k": String(repeating: "v", count: 16 * 1024 - 1)], refusal: nil),
        CallCase(name: "16 KiB + 1 of metadata", method: health, metadata: ["k": String(repeating: "v", count: 16 * 1024)], refusal: .resourceExhausted),
        CallCase(name: "a 256-byte method name", method: String(repeating: "m", count: 256), metadata: [:], refusal: .unimplemented),
        CallCase(name: "a 257-byte method name", method: String(repeating: "m", count: 257), metadata: [:], refusal: .invalidArgument),
    ]

    static func entries(_ count: Int, valueBytes: Int) -> [String: String] {
        Dictionary(uniqueKeysWithValues: (0..<count).map { ("k\($0)", String(repeating: "v", count: valueBytes)) })
    }

    @Test("metadata and method names over the default caps are refused; the connection and server go on", arguments: callCases)
    func callCaps(_ testCase: CallCase) async throws {
        let server = try await ServerProcess.start()
        try await withClient(port: server.port) { client in
            if let refusal = testCase.refusal {
                let error = await expectRPCError(refusal) {
                    _ = try await client.unary(
                        testCase.method, HealthCheckRequest(), as: HealthCheckResponse.self, timeout: .seconds(10),
                        metadata: testCase.metadata)
                }
                #expect((error?.message.utf8.count ?? 0) < 400)
            } else {
                let response = try await client.unary(
                    testCase.method, HealthCheckRequest(), as: HealthCheckResponse.self, timeout: .seconds(10), metadata: testCase.metadata)
                #expect(response.status == .serving)
            }
            // The same connection still serves.
            let response = try await client.unary(Self.health, HealthCheckRequest(), as: HealthCheckResponse.self, timeout: .seconds(10))
            #expect(response.status == .serving)
        }
        #expect(try await server.stop() == 0)
    }

    @Test("a method name goes into the log and the status escaped and shortened")
    func methodNameIsEscapedInLogs() async throws {
        let server = try await ServerProcess.start(["--log-level", "debug"])
        let forged = "evil\n2026-12-01T00:00:00+0000 critical imagegen-server: forged line" + String(repeating: "x", count: 150)
        try await withClient(port: server.port) { client in
            let error = await expectRPCError(.unimplemented) {
                _ = try await client.unary(forged, HealthCheckRequest(), as: HealthCheckResponse.self, timeout: .seconds(10))
            }
            #expect(error?.message.contains("evil\\u{a}2026") == true, "\(error?.message ?? "")")
            #expect(error?.message.contains("\n") == false)
            #expect((error?.message.utf8.count ?? 0) < 200)
        }
        #expect(try await server.stop() == 0)
        let stderr = server.process.stderr
        #expect(stderr.contains("evil\\u{a}2026"), "\(stderr.suffix(2000))")
        #expect(!stderr.contains("\n2026-12-01T00:00:00+0000 critical"))
        #expect(!stderr.contains(String(repeating: "x", count: 100)))
    }

    @Test("client text in a status is escaped and the status cut to its bound at a UTF-8 boundary")
    func unknownStylesAnswerIsBounded() async throws {
        let server = try await ServerProcess.start()
        try await withClient(port: server.port) { client in
            // 5,000 unknown style names of 80 four-byte characters each (1.6 MB of names).
            let styles = (0..<5_000).map { "\($0)" + String(repeating: "🦊", count: 80) }
            let request = StartGenerationRequest(
                projectDir: "p", storyboard: .init(shots: [Shot(id: "s", beats: [Beat(id: "b", prompt: "a fox")])]), styles: styles)
            let error = await expectRPCError(.invalidArgument) {
                let stream = try await client.serverStreaming(
                    ImageGenerationMethod.startGeneration.rawValue, request, as: ProgressEvent.self, timeout: .seconds(30))
                for try await _ in stream {}
            }
            let message = error?.message ?? ""
            #expect(message.utf8.count <= RPCError.maxMessageBytes)
            #expect(message.hasPrefix("unknown styles \"0\\u{1f98a}"), "\(message.prefix(100))")
            #expect(!message.contains("🦊"))
        }
        #expect(try await server.stop() == 0)
    }

    @Test(
        "a request's max_concurrency lowers the operator's maxConcurrentRequests, never raises it",
        arguments: [(3, 8, 3), (3, 2, 2), (3, 0, 3), (nil, 2, 2)] as [(Int?, UInt32, Int)])
    func maxConcurrencyOnlyLowers(operatorCap: Int?, requested: UInt32, expected: Int) async throws {
        let config = FileManager.default.temporaryDirectory.appendingPathComponent("imagegen-cap-\(UUID().uuidString).json")
        try Data((operatorCap.map { #"{"maxConcurrentRequests": \#($0)}"# } ?? "{}").utf8).write(to: config)
        defer { try? FileManager.default.removeItem(at: config) }
        // The offline renderer draws 4 at a time per style unless a cap is lower.
        let server = try await ServerProcess.start(["--config", config.path], environment: ["IMAGEGEN_OFFLINE_LATENCY_MS": "150"])
        var inFlight = 0
        var most = 0
        var done = 0
        try await withClient(port: server.port) { client in
            let beats = (1...12).map { Beat(id: "b\($0)", prompt: "a fox number \($0)") }
            let request = StartGenerationRequest(
                projectDir: "p", storyboard: .init(shots: [Shot(id: "s", beats: beats)]), styles: ["clear"],
                options: GenerationOptions(force: true, maxConcurrency: requested))
            let stream = try await client.serverStreaming(
                ImageGenerationMethod.startGeneration.rawValue, request, as: ProgressEvent.self, timeout: .seconds(60))
            for try await event in stream {
                guard case .beat(let beat) = event.kind else { continue }
                switch beat.state {
                case .generating: inFlight += 1
                case .done, .failed: inFlight -= 1; done += 1
                default: break
                }
                most = max(most, inFlight)
            }
        }
        #expect(done == 12)
        #expect(most == expected)
        #expect(try await server.stop() == 0)
    }
}
