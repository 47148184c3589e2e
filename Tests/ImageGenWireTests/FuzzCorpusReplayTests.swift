import Foundation
import ImageGenWire
import Testing

/// Replays the fuzzer's seed corpus and every saved regression input through the decoders, the
/// way `Fuzz/WireFuzzTarget.swift` does: whatever decodes must survive a round trip.
@Suite("Fuzz corpus replay")
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

    /// Whatever decodes must encode, decode and encode again to the same bytes (bytes, not values:
    /// a NaN double is valid and not equal to itself; `Fuzz/regressions/jobstatus-nan-percent`).
    static func roundTrip<M: WireMessage>(_ type: M.Type, _ bytes: [UInt8]) -> Bool {
        guard let first = try? M(serializedBytes: bytes) else { return true }
        let encoded = first.serializedBytes()
        return (try? M(serializedBytes: encoded))?.serializedBytes() == encoded
    }

    static let decoders: [@Sendable ([UInt8]) -> Bool] = [
        { bytes in
            var offset = 0
            while bytes.count - offset >= 4 {
                let length = Int(FrameHeader.decodeLength(bytes[offset..<offset + 4]))
                guard (try? FrameHeader.validate(length: UInt32(length), maxFrameBytes: 1 << 20)) != nil,
                    offset + 4 + length <= bytes.count
                else { return true }
                guard roundTrip(Frame.self, Array(bytes[offset + 4..<offset + 4 + length])) else { return false }
                offset += 4 + length
            }
            return true
        },
        { roundTrip(Frame.self, $0) }, { roundTrip(CallStart.self, $0) }, { roundTrip(CallStatus.self, $0) },
        { roundTrip(HealthCheckRequest.self, $0) }, { roundTrip(HealthCheckResponse.self, $0) },
        { roundTrip(StartGenerationRequest.self, $0) }, { roundTrip(WatchJobRequest.self, $0) },
        { roundTrip(GetStatusRequest.self, $0) }, { roundTrip(JobRequest.self, $0) },
        { roundTrip(ListJobsRequest.self, $0) }, { roundTrip(ListJobsResponse.self, $0) },
        { roundTrip(JobStatus.self, $0) }, { roundTrip(ProgressEvent.self, $0) }, { roundTrip(Storyboard.self, $0) },
    ]

    @Test("the corpus is there")
    func corpusPresent() {
        #expect(Self.inputs().count >= 20)
    }

    @Test("every saved input decodes or is refused, never crashes, and round-trips", arguments: inputs())
    func replay(_ name: String) throws {
        let data = try Data(contentsOf: Self.fuzzDirectory.appendingPathComponent(name))
        guard let selector = data.first else { return }
        let decoder = Self.decoders[Int(selector) % Self.decoders.count]
        #expect(decoder(Array(data.dropFirst())), "\(name) does not survive a round trip")
    }
}
