import Foundation
import ImageGenEngine
import Logging
import Synchronization
import Testing

/// A temporary directory removed when the test ends.
struct TempDirectory: ~Copyable {
    let url: URL

    /// - Parameter inMemory: under /dev/shm when it exists (tmpfs: creating 30,000 files there does not
    ///   measure the disk's inode allocator).
    init(_ name: String = "t", inMemory: Bool = false) {
        let base =
            inMemory && FileManager.default.fileExists(atPath: "/dev/shm")
            ? URL(fileURLWithPath: "/dev/shm", isDirectory: true) : FileManager.default.temporaryDirectory
        url = base
            .appendingPathComponent("imagegen-engine-tests-\(name)-\(UUID().uuidString)", isDirectory: true)
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: url) }
}

let testLogger: Logger = {
    var logger = Logger(label: "imagegen-engine-tests")
    logger.logLevel = .critical
    return logger
}()

/// One request the scripted provider saw.
struct RecordedCall: Sendable {
    var prompt: String
    var keyLabel: String
    var project: String
    var references: [ReferenceImage]
    var start: ContinuousClock.Instant
    /// When the engine's pace gate let the request start (``ImageRequest/startedAt``): what pacing
    /// tests compare, as the provider is called a moment later, by however long the thread took.
    var granted: ContinuousClock.Instant
    var end: ContinuousClock.Instant?
    /// 0-based: how many earlier calls had the same prompt.
    var promptAttempt: Int
}

/// A test double that records every request and answers per a script.
final class ScriptedProvider: ImageProvider {
    typealias Behaviour = @Sendable (_ request: ImageRequest, _ promptAttempt: Int) async throws -> GeneratedImage?

    let name = "scripted"
    let latency: Duration
    private let behaviour: Behaviour
    private let calls = Mutex<[RecordedCall]>([])

    init(latency: Duration = .zero, behaviour: @escaping Behaviour = { _, _ in nil }) {
        self.latency = latency
        self.behaviour = behaviour
    }

    var recorded: [RecordedCall] { calls.withLock { $0 } }

    func generate(_ request: ImageRequest) async throws -> GeneratedImage {
        let start = ContinuousClock.now
        let (index, attempt) = calls.withLock { calls in
            let attempt = calls.filter { $0.prompt == request.prompt }.count
            calls.append(
                RecordedCall(
                    prompt: request.prompt, keyLabel: request.key.label, project: request.key.project,
                    references: request.references, start: start, granted: request.startedAt ?? start,
                    promptAttempt: attempt))
            return (calls.count - 1, attempt)
        }
        defer { calls.withLock { $0[index].end = ContinuousClock.now } }
        if latency > .zero { try await Task.sleep(for: latency) }
        if let image = try await behaviour(request, attempt) { return image }
        return try Self.image(for: request.prompt)
    }

    static func image(for prompt: String) throws -> GeneratedImage {
        GeneratedImage(
            mimeType: "image/png", data: Data(try OfflineProvider.render(style: "test", prompt: prompt, width: 16, height: 9)),
            usage: TokenUsage(promptTokens: 10, outputTokens: 100, totalTokens: 110))
    }
}

/// Keys whose secrets are easy to spot if they leak.
func keys(_ style: String, _ specs: [(project: String?, secret: String)]) -> [APIKey] {
    specs.enumerated().map { offset, spec in
        APIKey(secret: spec.secret, project: spec.project, style: style, index: offset + 1)
    }
}

/// A fast configuration: fast backoff, no fsync, tiny offline images.
func fastConfiguration(
    styles: [StyleConfiguration], durability: EngineConfiguration.Durability = .none
) -> EngineConfiguration {
    EngineConfiguration(
        styles: styles, durability: durability,
        offline: OfflineSettings(width: 16, height: 9, concurrency: 4))
}

func fastStyle(
    _ name: String, keys: [APIKey], continuity: Bool = false, rpm: Double = 0, inFlight: Int = 4,
    retry: RetryPolicy = RetryPolicy(baseDelay: .milliseconds(5), maxDelay: .milliseconds(40))
) -> StyleConfiguration {
    StyleConfiguration(
        name: name, promptTemplate: "\(name): {prompt}", continuity: continuity, keys: keys, requestsPerMinute: rpm,
        maxInFlightPerProject: inFlight, retry: retry)
}

/// "shot/beat" storyboard with `shots` shots of `beats` beats each; prompts are unique
/// ("scene S moment B", after "`subject`: " when given).
func makeStoryboard(
    shots: Int, beats: Int, subject: String? = nil, transition: (Int, Int) -> ValidatedStoryboard.Transition = { _, _ in .cut }
) throws -> ValidatedStoryboard {
    try ValidatedStoryboard(
        shots: (1...shots).map { s in
            ValidatedStoryboard.Shot(
                id: "\(s)",
                beats: (1...beats).map { b in
                    ValidatedStoryboard.Beat(
                        id: "\(s).\(b)", prompt: (subject.map { "\($0): " } ?? "") + "scene \(s) moment \(b)",
                        transition: transition(s, b))
                })
        })
}

/// Reads a style's JSON progress file (after a job, the journal is folded into it).
func progressRecords(_ project: URL, style: String) throws -> [String: BeatRecord] {
    struct Document: Decodable { var beats: [BeatRecord] }
    let data = try Data(contentsOf: project.appendingPathComponent("image_progress_\(style).json"))
    let document = try JSONDecoder().decode(Document.self, from: data)
    return Dictionary(uniqueKeysWithValues: document.beats.map { ($0.key, $0) })
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) * 1e-18 }
}

/// Checks a PNG's signature, chunk CRCs and IHDR; returns (width, height).
func validatePNG(_ data: Data) -> (width: Int, height: Int)? {
    let bytes = [UInt8](data)
    guard bytes.count > 33, bytes.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) else { return nil }
    func be32(_ i: Int) -> UInt32 {
        UInt32(bytes[i]) << 24 | UInt32(bytes[i + 1]) << 16 | UInt32(bytes[i + 2]) << 8 | UInt32(bytes[i + 3])
    }
    var table = [UInt32](repeating: 0, count: 256)
    for n in 0..<256 {
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        table[n] = c
    }
    var offset = 8
    var size: (Int, Int)?
    var sawEnd = false
    while offset + 12 <= bytes.count {
        let length = Int(be32(offset))
        guard offset + 12 + length <= bytes.count else { return nil }
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes[(offset + 4)..<(offset + 8 + length)] { crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
        guard crc ^ 0xFFFF_FFFF == be32(offset + 8 + length) else { return nil }
        let type = String(decoding: bytes[(offset + 4)..<(offset + 8)], as: UTF8.self)
        if type == "IHDR" { size = (Int(be32(offset + 8)), Int(be32(offset + 12))) }
        if type == "IEND" { sawEnd = true }
        offset += 12 + length
    }
    guard sawEnd, offset == bytes.count, let size else { return nil }
    return (size.0, size.1)
}
