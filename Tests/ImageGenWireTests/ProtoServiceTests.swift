import CImageGenWire
import Foundation
import ImageGenWire
import ImageGenTestSupport
import Testing

/// The services declared in Proto/ are the ones the code speaks: the generated C descriptors list
/// `ImageGenerationMethod`'s methods with the Swift message types, and the .proto marks as
/// `stream` exactly the streaming ones.
@Suite("Proto services", .timeLimit(.minutes(1)), .hangWatchdog)
struct ProtoServiceTests {
    /// Each method's request and response, as the Swift client and server use them.
    static let types: [ImageGenerationMethod: (request: String, response: String, streams: Bool)] = [
        .startGeneration: (String(describing: StartGenerationRequest.self), String(describing: ProgressEvent.self), true),
        .watchJob: (String(describing: WatchJobRequest.self), String(describing: ProgressEvent.self), true),
        .getStatus: (String(describing: GetStatusRequest.self), String(describing: JobStatus.self), false),
        .cancelGeneration: (String(describing: JobRequest.self), String(describing: JobStatus.self), false),
        .pauseGeneration: (String(describing: JobRequest.self), String(describing: JobStatus.self), false),
        .resumeGeneration: (String(describing: JobRequest.self), String(describing: JobStatus.self), false),
        .listJobs: (String(describing: ListJobsRequest.self), String(describing: ListJobsResponse.self), false),
        .listServers: (String(describing: ListServersRequest.self), String(describing: ListServersResponse.self), false),
    ]

    /// "imagegen.v1.Service/Method" → (request, response) full names, from a generated descriptor.
    static func methods(_ service: ProtobufCServiceDescriptor) -> [String: (request: String, response: String)] {
        let name = String(cString: service.name)
        var methods: [String: (request: String, response: String)] = [:]
        for index in 0..<Int(service.n_methods) {
            let method = service.methods[index]
            methods["\(name)/\(String(cString: method.name))"] = (
                String(cString: method.input.pointee.name), String(cString: method.output.pointee.name)
            )
        }
        return methods
    }

    @Test("the generated ImageGeneration service has exactly ImageGenerationMethod's methods, with their types")
    func imageGeneration() {
        let generated = Self.methods(imagegen__v1__image_generation__descriptor)
        #expect(String(cString: imagegen__v1__image_generation__descriptor.name) == ImageGenerationMethod.serviceName)
        #expect(Set(generated.keys) == Set(ImageGenerationMethod.allCases.map(\.rawValue)))
        for method in ImageGenerationMethod.allCases {
            let expected = Self.types[method]!
            #expect(generated[method.rawValue]?.request == "imagegen.v1.\(expected.request)", "\(method)")
            #expect(generated[method.rawValue]?.response == "imagegen.v1.\(expected.response)", "\(method)")
        }
    }

    @Test("the generated Health service has Check(HealthCheckRequest) → HealthCheckResponse")
    func health() {
        let generated = Self.methods(imagegen__v1__health__descriptor)
        #expect(generated.keys.sorted() == ["imagegen.v1.Health/Check"])
        #expect(generated["imagegen.v1.Health/Check"]?.request == "imagegen.v1.HealthCheckRequest")
        #expect(generated["imagegen.v1.Health/Check"]?.response == "imagegen.v1.HealthCheckResponse")
    }

    @Test("generation.proto marks exactly the streaming methods `returns (stream …)`", arguments: ImageGenerationMethod.allCases)
    func streaming(_ method: ImageGenerationMethod) throws {
        let proto = try String(contentsOf: Self.protoFolder.appendingPathComponent("generation.proto"), encoding: .utf8)
        let name = method.rawValue.split(separator: "/").last.map(String.init) ?? ""
        let line = try #require(proto.split(separator: "\n").first { $0.contains("rpc \(name)(") }, "rpc \(name) is not declared")
        let expected = Self.types[method]!
        #expect(line.contains("returns (\(expected.streams ? "stream " : "")\(expected.response))"), "\(line)")
    }

    static let protoFolder = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Proto")
}
