import Foundation
@_spi(Fuzzing) import ImageGenWire
import ImageGenTestSupport
import Testing

/// Replays the fuzzer's seed corpus and every saved regression input through the fuzzer's own
/// property (`WireRoundTrip`, which `Fuzz/WireFuzzTarget.swift` calls): whatever decodes must
/// survive a round trip.
@Suite("Fuzz corpus replay", .timeLimit(.minutes(1)), .hangWatchdog)
struct FuzzCorpusReplayTests {
    static let fuzzDirectory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fuzz")

    static func inputs() -> [String] {
        ["corpus", "regressions"].flatMap { folder -> [String] in
            let directory = fuzzDirectory.appendingPathComponent(folder)
            let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
            return names.filter { !$0.hasPrefix(".") }.sorted().map { "\(folder)/\($0)" }
        }
    }

    @Test("the corpus is there and reaches every decoder")
    func corpusPresent() throws {
        #expect(Self.inputs().count >= 20)
        let selectors = try Self.inputs().compactMap { name in
            try Data(contentsOf: Self.fuzzDirectory.appendingPathComponent(name)).first.map { Int($0) % WireRoundTrip.decoderCount }
        }
        #expect(Set(selectors).count == WireRoundTrip.decoderCount, "decoders without a seed: \(Set(0..<WireRoundTrip.decoderCount).subtracting(selectors).sorted())")
    }

    @Test("every saved input decodes or is refused, never crashes, and round-trips", arguments: inputs())
    func replay(_ name: String) throws {
        let data = try Data(contentsOf: Self.fuzzDirectory.appendingPathComponent(name))
        let failure = WireRoundTrip.check(Array(data))
        #expect(failure == nil, "\(name): \(failure ?? "")")
    }
}
