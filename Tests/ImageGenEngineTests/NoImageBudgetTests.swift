import Foundation
import ImageGenEngine
import ImageGenTestSupport
import Testing

/// `retry.maxNoImageAttempts` through a whole job: a beat gets that many billed answers without an
/// image before it fails, counted as wasted; bytes that are not PNG or JPEG count as such an answer.
@Suite("No-image budget", .timeLimit(.minutes(2)), .hangWatchdog)
struct NoImageBudgetTests {
    @Test(arguments: [1, 2, 3], [0, 1, 2, 3])
    func beatGetsItsNoImageBudget(budget: Int, noImageAnswers: Int) async throws {
        let dir = TempDirectory("noimage")
        let provider = ScriptedProvider { request, attempt in
            guard request.prompt.hasSuffix("moment 1"), attempt < noImageAnswers else { return nil }
            throw ProviderFailure.noImage(reason: "NO_IMAGE", message: "")
        }
        let (summary, events) = try await run(provider, budget: budget, dir: dir)
        let succeeds = noImageAnswers < budget
        let calls = provider.recorded.filter { $0.prompt.hasSuffix("moment 1") }.count
        #expect(calls == (succeeds ? noImageAnswers + 1 : budget))
        #expect(summary.styles[0].done == (succeeds ? 2 : 1))
        #expect(summary.styles[0].failed == (succeeds ? 0 : 1))
        #expect(summary.styles[0].spend.wastedAttempts == min(noImageAnswers, budget))
        let retries = beatUpdates(events, state: .retrying).filter { $0.beatID == "1.1" }
        #expect(retries.count == min(noImageAnswers, budget - 1))
        #expect(retries.allSatisfy { $0.retryIn == .zero && $0.error == "no image (NO_IMAGE)" })
        let failed = beatUpdates(events, state: .failed).map { "\($0.beatID): \($0.error ?? "")" }
        #expect(failed == (succeeds ? [] : ["1.1: beat 1.1: no image (NO_IMAGE)"]))
    }

    /// The provider answered with bytes the engine does not store (a WebP): not written, and
    /// counted as an answer without an image.
    @Test func bytesThatAreNotPNGOrJPEGAreNoImage() async throws {
        let dir = TempDirectory("webp")
        let webp = Data(Array("RIFF".utf8) + [8, 0, 0, 0] + Array("WEBPVP8 ".utf8))
        let provider = ScriptedProvider { request, _ in
            request.prompt.hasSuffix("moment 1") ? GeneratedImage(mimeType: "image/webp", data: webp) : nil
        }
        let (summary, events) = try await run(provider, budget: 2, dir: dir)
        #expect(provider.recorded.filter { $0.prompt.hasSuffix("moment 1") }.count == 2)
        #expect(summary.styles[0].failed == 1)
        #expect(summary.styles[0].spend.wastedAttempts == 2)
        let failed = beatUpdates(events, state: .failed).map { "\($0.beatID): \($0.error ?? "")" }
        #expect(failed == ["1.1: beat 1.1: no image (NOT_AN_IMAGE): the provider returned \(webp.count) bytes that are not PNG or JPEG"])
        let folder = dir.url.appendingPathComponent("generated_images/clear/Shot_1")
        let written = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
        #expect(written == ["Beat_1.2.png"])
    }

    private func run(_ provider: ScriptedProvider, budget: Int, dir: borrowing TempDirectory) async throws
        -> (JobSummary, [EngineEvent])
    {
        let retry = RetryPolicy(maxNoImageAttempts: budget, baseDelay: .milliseconds(5), maxDelay: .milliseconds(40))
        let style = fastStyle("clear", keys: keys("clear", [(nil, "AIzaKey000000001")]), retry: retry)
        let engine = ImageEngine(configuration: fastConfiguration(styles: [style]), logger: testLogger) { _ in provider }
        return await runJob(try engine.makeJob(storyboard: try makeStoryboard(shots: 1, beats: 2), project: dir.url))
    }
}
