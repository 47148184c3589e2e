import FakeGemini
import Foundation
import ImageGenClient
import ImageGenTestSupport
import ImageGenWire
import Logging
import Testing

extension ProofTests {
    /// How long a CancelGeneration may take to answer, the job then CANCELLED.
    static let cancelBound = Duration.seconds(2)

    /// CancelGeneration over RPC, through the real server process, of jobs whose Gemini requests
    /// hang (the fake never answers them) or answer slowly: started and cancelled again and again
    /// at random moments, each call answers within ``cancelBound`` with the job CANCELLED (waited
    /// for, not polled: the answer shows the final state), and the server stays responsive.
    @Test(.timeLimit(.minutes(2)))
    func cancelGenerationAnswersPromptlyWhileRequestsHang() async throws {
        let workspace = try ProofWorkspace("cancel")
        defer { workspace.remove() }
        // Every other beat hangs; the rest are answered after up to 40 ms.
        let beats: [ProofStoryboard.Beat] = (1...8).map { index in
            ("1.\(index)", (index % 2 == 0 ? "[[fault:hang]] " : "") + "a foggy pier, beat \(index)", index == 1 ? "hard_cut" : "cut")
        }
        try workspace.makeProject("fog", storyboard: ProofStoryboard(shots: [(id: "1", beats: beats)]))
        // Requests time out only after 30 s: a cancellation that does not abort them would show.
        try workspace.writeConfig(#"{"requestTimeoutSeconds":30,"durability":"none"}"#)
        let fake = FakeGeminiServer(
            configuration: FakeGeminiConfiguration(acceptAnyKey: true, jitter: .milliseconds(40)),
            logger: Logger(label: "fake-gemini", factory: { _ in SwiftLogNoOpLogHandler() }))
        let fakePort = try await fake.start()
        var environment = Self.crashKeys
        environment["IMAGEGEN_GEMINI_BASE_URL"] = "http://127.0.0.1:\(fakePort)"
        // Paced every 10 ms per project: requests are on their way within moments of each start.
        environment["IMAGEGEN_KEY_RPM"] = "6000"
        let server = try await ServerLauncher(arguments: workspace.serverArguments(config: true), environment: environment).launch()
        do {
            let client = try await ServerLauncher.client(server)
            defer { client.close() }
            var random = SystemRandomNumberGenerator()
            var slowest = Duration.zero
            let iterations = 30
            for iteration in 1...iterations {
                let stream = try await client.startGeneration(
                    StartGenerationRequest(projectDir: "fog", detach: true), timeout: .seconds(10))
                let accepted = try await EventStreams.collect(stream)
                let jobID = try #require(accepted.first?.jobID, "iteration \(iteration): no accepted event")
                let pause = Int.random(in: 0...120, using: &random)
                try await Task.sleep(for: .milliseconds(pause))
                let started = ContinuousClock.now
                let status = try await client.cancelGeneration(jobID)
                let elapsed = ContinuousClock.now - started
                slowest = max(slowest, elapsed)
                #expect(status.state == .cancelled, "iteration \(iteration) (after \(pause) ms): \(status.state) \(status.message)")
                guard elapsed <= Self.cancelBound else {
                    Issue.record("iteration \(iteration) (cancelled after \(pause) ms): CancelGeneration took \(elapsed)")
                    break
                }
            }
            // The requests really hung on the fake, and were all aborted (no connection left open).
            #expect(fake.requestLog().contains { $0.kind == "hang" })
            let deadline = ContinuousClock.now + .seconds(10)
            while fake.openConnectionCount > 0, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
            #expect(fake.openConnectionCount == 0, "requests still open on the fake after every job was cancelled")
            print("proof cancel: \(iterations) CancelGeneration calls, slowest \(slowest); \(fake.requestLog().count) requests to the fake")
        } catch {
            Issue.record("cancel test: \(error); server stderr: \(server.process.stderr.suffix(2_000))")
        }
        #expect(await ServerLauncher.stop(server.process) == 0)
        try await fake.shutdown()
    }
}
