import Foundation
import ImageGenEngine
import ImageGenTestSupport
import Testing

@Suite("Offline provider", .timeLimit(.minutes(1)), .hangWatchdog)
struct OfflineProviderTests {
    @Test(arguments: [(256, 144), (16, 9), (33, 17)])
    func drawsValidPNGs(width: Int, height: Int) throws {
        let png = Data(try OfflineProvider.render(style: "clear", prompt: "a fox", width: width, height: height))
        let size = try #require(validatePNG(png))
        #expect(size.width == width && size.height == height)
        #expect(png.count < width * height * 3)  // compressed
    }

    @Test func deterministicAndDistinct() throws {
        let a = try OfflineProvider.render(style: "clear", prompt: "a fox", width: 64, height: 36)
        #expect(try a == OfflineProvider.render(style: "clear", prompt: "a fox", width: 64, height: 36))
        #expect(try a != OfflineProvider.render(style: "clear", prompt: "a cat", width: 64, height: 36))
        #expect(try a != OfflineProvider.render(style: "illustration", prompt: "a fox", width: 64, height: 36))
    }

    @Test func latencyRenderLogAndCancellation() async throws {
        let dir = TempDirectory("offline")
        let log = dir.url.appendingPathComponent("renders.log").path
        let provider = OfflineProvider(
            style: "clear", settings: OfflineSettings(width: 16, height: 9, latency: .milliseconds(30), renderLogPath: log))
        let request = ImageRequest(model: "m", prompt: "hello", key: APIKey(secret: "", project: "p", label: "l"))
        let clock = ContinuousClock()
        let start = clock.now
        let image = try await provider.generate(request)
        #expect(clock.now - start >= .milliseconds(30))
        #expect(image.mimeType == "image/png" && validatePNG(image.data) != nil)
        #expect(try String(contentsOfFile: log, encoding: .utf8) == "clear\t\(OfflineProvider.promptDigest("hello"))\n")
        let slow = OfflineProvider(style: "clear", settings: OfflineSettings(latency: .seconds(30)))
        await #expect(throws: ProviderFailure.cancelled) {
            try await withThrowingTaskGroup(of: GeneratedImage.self) { group in
                group.addTask { try await slow.generate(request) }
                group.cancelAll()
                return try await group.next()!
            }
        }
    }
}
