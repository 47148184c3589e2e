import Foundation
import ImageGenPNG
import ImageGenTestSupport
import Testing

@testable import FakeGemini

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The fake on its own: request validation, control endpoints, the images it makes.
@Suite("FakeGeminiServer", .timeLimit(.minutes(2)), .hangWatchdog)
struct FakeGeminiServerTests {
    static let secret = GeminiTestSupport.secretA

    static func send(
        _ method: String, _ url: String, headers: [String: String] = [:], body: String? = nil
    ) async throws -> (Int, Data) {
        var request = URLRequest(url: URL(string: url)!)
        request.httpMethod = method
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        if let body { request.httpBody = Data(body.utf8) }
        let (data, response) = try await URLSession.shared.data(for: request)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, data)
    }

    static func withServer(
        _ configuration: FakeGeminiConfiguration = GeminiTestSupport.fakeConfiguration(),
        _ body: (String, FakeGeminiServer) async throws -> Void
    ) async throws {
        let server = FakeGeminiServer(configuration: configuration, logger: LogRecorder().logger(label: "fake"))
        let port = try await server.start()
        do {
            try await body("http://127.0.0.1:\(port)", server)
        } catch {
            try await server.shutdown()
            throw error
        }
        try await server.shutdown()
    }

    static func errorEnvelope(_ data: Data) -> (code: Int, status: String, message: String)? {
        guard let root = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
            let error = root["error"] as? [String: Any], let code = error["code"] as? Int,
            let status = error["status"] as? String, let message = error["message"] as? String
        else { return nil }
        return (code, status, message)
    }

    @Test(arguments: [
        (#"{"contents":[{"parts":[{"text":"x"}]}],"bogus":1}"#, "Unknown name \"bogus\""),
        (#"{"contents":[{"parts":[{"text":"x"}]}],"generationConfig":{"imageConfig":{"aspectRatio":"5:7"}}}"#, "aspect ratio"),
        (#"{"contents":[{"parts":[{"text":"x"}]}],"generation_config":{"image_config":{"image_size":"8K"}}}"#, "image size"),
        (#"{"contents":[{"parts":[{"text":"x"},{"inlineData":{"mimeType":"image/jpg","data":"AAAA"}}]}]}"#, "MIME type"),
        (#"{"contents":[]}"#, "contents"),
        ("not json", "Invalid JSON payload"),
    ])
    func badBodiesAnswer400(body: String, mentions: String) async throws {
        try await Self.withServer { base, _ in
            let (status, data) = try await Self.send(
                "POST", base + "/v1beta/models/gemini-3-pro-image:generateContent",
                headers: ["x-goog-api-key": Self.secret, "Content-Type": "application/json"], body: body)
            #expect(status == 400)
            let envelope = try #require(Self.errorEnvelope(data))
            #expect(envelope.code == 400 && envelope.status == "INVALID_ARGUMENT")
            #expect(envelope.message.contains(mentions), "\(envelope.message)")
        }
    }

    @Test func snakeCaseAndTheQueryKeyAreAccepted() async throws {
        try await Self.withServer { base, server in
            let body = #"{"contents":[{"role":"user","parts":[{"text":"snake"}]}],"generation_config":{"response_modalities":["IMAGE"],"image_config":{"aspect_ratio":"1:1"}}}"#
            let (status, _) = try await Self.send(
                "POST", base + "/v1beta/models/gemini-3-pro-image:generateContent?key=\(Self.secret)", body: body)
            #expect(status == 200)
            let entry = try #require(server.requestLog().first)
            #expect(entry.keySource == "query")
            #expect(entry.aspectRatio == "1:1")
            #expect(entry.keyLabel == "…0001")
        }
    }

    @Test func missingKeyIs403AndUnknownPathIs404() async throws {
        try await Self.withServer { base, _ in
            let body = #"{"contents":[{"parts":[{"text":"x"}]}]}"#
            let (missing, data) = try await Self.send("POST", base + "/v1beta/models/m:generateContent", body: body)
            #expect(missing == 403)
            #expect(Self.errorEnvelope(data)?.status == "PERMISSION_DENIED")
            let (unknown, _) = try await Self.send("POST", base + "/v1/other", headers: ["x-goog-api-key": Self.secret], body: body)
            #expect(unknown == 404)
        }
    }

    @Test func controlEndpoints() async throws {
        try await Self.withServer { base, server in
            let (health, _) = try await Self.send("GET", base + "/_fake/health")
            #expect(health == 200)
            let (queued, _) = try await Self.send(
                "POST", base + "/_fake/faults", body: #"{"faults":["unavailable",{"fault":"server_error","key":"k"}]}"#)
            #expect(queued == 200)
            let (rejected, _) = try await Self.send("POST", base + "/_fake/faults", body: #"{"faults":["no_such_fault"]}"#)
            #expect(rejected == 400)
            let body = #"{"contents":[{"parts":[{"text":"logged"}]}]}"#
            let (status, _) = try await Self.send(
                "POST", base + "/v1beta/models/m:generateContent", headers: ["x-goog-api-key": Self.secret], body: body)
            #expect(status == 503)
            let (logStatus, logData) = try await Self.send("GET", base + "/_fake/log")
            #expect(logStatus == 200)
            let text = String(decoding: logData, as: UTF8.self)
            #expect(!text.contains(Self.secret))
            let root = try #require(try JSONSerialization.jsonObject(with: logData) as? [String: Any])
            let requests = try #require(root["requests"] as? [[String: Any]])
            #expect(requests.count == 1)
            #expect(requests.first?["kind"] as? String == "unavailable")
            #expect(requests.first?["prompt"] as? String == "logged")
            #expect(server.requestLog().count == 1)
            let (cleared, _) = try await Self.send("DELETE", base + "/_fake/log")
            #expect(cleared == 200)
            #expect(server.requestLog().isEmpty)
        }
    }

    @Test func pngsAreValidAndDependOnTheSeed() throws {
        let first = [UInt8](try TinyImageEncoder.png(seed: "a"))
        let second = [UInt8](try TinyImageEncoder.png(seed: "b"))
        #expect(first != second)
        #expect(first.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]))
        // Walk the chunks and check every CRC.
        var offset = 8
        var types: [String] = []
        while offset < first.count {
            let length = first[offset..<offset + 4].reduce(0) { $0 << 8 | Int($1) }
            let typeAndData = Array(first[(offset + 4)..<(offset + 8 + length)])
            let crc = first[(offset + 8 + length)..<(offset + 12 + length)].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            #expect(Zlib.crc32(typeAndData) == crc)
            types.append(String(decoding: typeAndData.prefix(4), as: UTF8.self))
            offset += 12 + length
        }
        #expect(types == ["IHDR", "IDAT", "IEND"])
        #expect(Zlib.adler32(Array("Wikipedia".utf8)) == 0x11E6_0398)
        #expect(Zlib.crc32(Array("123456789".utf8)) == 0xCBF4_3926)
        #expect(TinyImageEncoder.jpeg().starts(with: [0xFF, 0xD8, 0xFF]))
    }

    @Test func promptTriggers() {
        #expect(FakeGeminiBackend.promptTrigger("x [[fault:drop]] y")! == (.drop, nil))
        #expect(FakeGeminiBackend.promptTrigger("[[fault:rate_limit:3]]")! == (.rateLimit, 3))
        #expect(FakeGeminiBackend.promptTrigger("[[fault:nope]]") == nil)
        #expect(FakeGeminiBackend.promptTrigger("plain") == nil)
        #expect(FakeGeminiPayloads.protobufDuration(.milliseconds(1500)) == "1.5s")
        #expect(FakeGeminiPayloads.protobufDuration(.seconds(26)) == "26s")
        #expect(FakeGeminiPayloads.protobufDuration(.nanoseconds(45_837_906_927)) == "45.837906927s")
    }
}
