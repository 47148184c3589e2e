import Foundation
import ImageGenEngine
import ImageGenRPC
import ImageGenService
import ImageGenWire
import Logging
import ImageGenTestSupport
import Testing

/// The methods GenerationService routes are the ones Proto/generation.proto declares, each
/// streaming exactly when the .proto says `returns (stream …)`.
@Suite("Routed methods match Proto/", .timeLimit(.minutes(1)), .hangWatchdog)
struct RoutedMethodsTests {
    @Test("GenerationService routes every rpc of service ImageGeneration, unary or streaming as declared, and nothing else")
    func routedAsDeclared() throws {
        let sandbox = try ServiceSandbox()
        defer { sandbox.remove() }
        var logger = Logger(label: "test-service")
        logger.logLevel = .critical
        let jobs = JobManager(
            configuration: ServiceConfiguration(projectsRoot: try ProjectsRoot(path: sandbox.root.path), stateDirectory: sandbox.state),
            engine: ImageEngine(configuration: EngineConfiguration(), logger: logger), logger: logger)
        var router = RPCRouter()
        GenerationService(jobs: jobs).register(into: &router)

        let protoURL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Proto/generation.proto")
        let proto = try String(contentsOf: protoURL, encoding: .utf8)
        // `rpc Name(Request) returns (stream Response);` lines, by full method name → streams.
        var declared: [String: Bool] = [:]
        for line in proto.split(separator: "\n") {
            let words = line.trimmingCharacters(in: .whitespaces).split(separator: " ")
            guard words.first == "rpc", words.count >= 3, let name = words[1].split(separator: "(").first else { continue }
            declared["\(ImageGenerationMethod.serviceName)/\(name)"] = words[3...].first == "(stream"
        }
        #expect(Set(declared.keys) == Set(router.methods))
        for (method, streams) in declared {
            #expect(router.kind(of: method) == (streams ? .serverStreaming : .unary), "\(method)")
        }
    }
}
