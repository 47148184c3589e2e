import Foundation
import ImageGenEngine
import ImageGenTestSupport
import Testing

/// `ImageEngine.estimate` on a partly done project: what a resume would skip is left out, chains
/// count as waves, beats an earlier run left in a batch are neither generated nor priced again.
@Suite("Cost estimate", .timeLimit(.minutes(1)), .hangWatchdog)
struct CostEstimateTests {
    static func engine(_ provider: ScriptedBatchProvider, imageSize: String? = "1K") -> ImageEngine {
        var style = BatchLaneTests.style()
        style.imageSize = imageSize
        return ImageEngine(configuration: fastConfiguration(styles: [style], durability: .full), logger: testLogger) { _ in provider }
    }

    @Test(arguments: [("1K", 0.067), ("2K", 0.101)])
    func partlyDoneProject(size: String, price: Double) async throws {
        let dir = TempDirectory("estimate")
        let full = try BatchLaneTests.board()
        // Shot 2 is done: render a storyboard of it alone first.
        let shot2 = try ValidatedStoryboard(shots: [full.shots[1]])
        let provider = ScriptedBatchProvider()
        let (done, _) = await runJob(try Self.engine(provider, imageSize: size).makeJob(storyboard: shot2, project: dir.url))
        #expect(done.state == .completed)

        let creates = provider.createCalls
        #expect(creates == 2, "shot 2 took two waves")
        let directory = try ProjectDirectory(url: dir.url)
        let estimates = try await Self.engine(provider, imageSize: size).estimate(storyboard: full, directory: directory)
        let clear = try #require(estimates.first)
        #expect(clear.total == 6 && clear.skipped == 3 && clear.toGenerate == 3 && clear.inBatch == 0)
        #expect(clear.waves == 3, "shot 1 is a chain of three")
        #expect(abs((clear.onlineCostUSD ?? 0) - 3 * price) < 1e-9)
        #expect(abs((clear.batchCostUSD ?? 0) - 3 * price / 2) < 1e-9)
        #expect(clear.delivery == .batch)

        // An earlier run's batch holds 1.1: collected, not generated, not priced again.
        let ledger = #"{"version":1,"id":"0123456789abcdef","sequence":1,"entries":[{"displayName":"imagegen 0123456789ab clear w1 #1","name":"batches/x1","wave":1,"project":"film-a","keyLabel":"clear#1","model":"gemini-3.1-flash-image","beats":["clear/1/1.1"],"createdAt":0,"deadline":0}]}"#
        try Data(ledger.utf8).write(to: dir.url.appendingPathComponent("image_batches_clear.json"))
        let again = try #require(try await Self.engine(provider, imageSize: size).estimate(storyboard: full, directory: directory).first)
        #expect(again.inBatch == 1 && again.toGenerate == 2 && again.skipped == 3)
        #expect(abs((again.onlineCostUSD ?? 0) - 2 * price) < 1e-9)
        #expect(again.waves == 3)
        // Nothing was sent, nothing written.
        #expect(provider.createCalls == creates && provider.onlinePrompts.isEmpty)
        #expect(try Data(contentsOf: dir.url.appendingPathComponent("image_batches_clear.json")) == Data(ledger.utf8))
    }

    @Test func unpricedModelIsNilNotZero() async throws {
        let dir = TempDirectory("estimate-unpriced")
        var style = BatchLaneTests.style()
        style.model = "gemini-9-image"
        let engine = ImageEngine(configuration: fastConfiguration(styles: [style]), logger: testLogger) { _ in ScriptedBatchProvider() }
        let estimate = try #require(
            try await engine.estimate(storyboard: BatchLaneTests.board(), directory: ProjectDirectory(url: dir.url, create: true)).first)
        #expect(estimate.toGenerate == 6)
        #expect(estimate.onlineCostUSD == nil && estimate.batchCostUSD == nil)
    }
}
