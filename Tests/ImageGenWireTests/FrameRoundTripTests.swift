import ImageGenWire
import ImageGenTestSupport
import Testing

@Suite("Round trips of the frame and health messages", .timeLimit(.minutes(1)), .hangWatchdog)
struct FrameRoundTripTests {
    @Test("Frame with every kind", arguments: Samples.frameKinds.map(\.0))
    func frame(kindName: String) throws {
        let kind = try #require(Samples.frameKinds.first { $0.0 == kindName }).1
        for callID: UInt64 in [0, 1, .max] {
            try expectRoundTrip(Frame(callID: callID, kind: kind))
        }
    }

    @Test("Frame.framedBytes is the length prefix and the serialized frame")
    func framedBytes() throws {
        let frame = Frame(callID: 7, kind: .message(Samples.mebibyte))
        let framed = frame.framedBytes()
        let payload = frame.serializedBytes()
        #expect(Int(FrameHeader.decodeLength(framed)) == payload.count)
        #expect(Array(framed.dropFirst(FrameHeader.size)) == payload)
        #expect(try Frame(serializedBytes: Array(framed.dropFirst(FrameHeader.size))) == frame)
    }

    @Test("CallStart with and without metadata")
    func callStart() throws {
        try expectRoundTrip(CallStart(method: ""))
        try expectRoundTrip(CallStart(method: "imagegen.v1.Health/Check", metadata: ["authorization": "Bearer t0k3n"]))
        try expectRoundTrip(CallStart(method: "m", metadata: ["": "", "ключ": "значение 🎬", "tab\tkey": "new\nline"]))
        try expectRoundTrip(Samples.maxCallStart)
    }

    @Test("CallStatus with non-ASCII, tab, newline and emoji messages", arguments: Samples.trickyStrings)
    func callStatus(message: String) throws {
        for code: UInt32 in [0, 1, 16, .max] {
            try expectRoundTrip(CallStatus(code: code, message: message))
        }
    }

    @Test("HealthCheckRequest")
    func healthCheckRequest() throws {
        try expectRoundTrip(HealthCheckRequest())
        try expectRoundTrip(HealthCheckRequest(service: "imagegen.v1.ImageGeneration"))
        try expectRoundTrip(HealthCheckRequest(service: Samples.longString))
    }

    @Test("HealthCheckResponse with every status", arguments: HealthCheckResponse.ServingStatus.allCases)
    func healthCheckResponse(status: HealthCheckResponse.ServingStatus) throws {
        try expectRoundTrip(HealthCheckResponse(status: status))
    }

    @Test("An empty message encodes to no bytes and decodes from none")
    func emptyEncodings() throws {
        #expect(HealthCheckRequest().serializedBytes().isEmpty)
        #expect(try HealthCheckRequest(serializedBytes: []) == HealthCheckRequest())
        #expect(try Frame(serializedBytes: []) == Frame(callID: 0, kind: nil))
    }
}
