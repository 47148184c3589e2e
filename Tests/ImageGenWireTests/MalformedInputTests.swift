import ImageGenTestSupport
import ImageGenWire
import Testing

/// Decodes `bytes` as `M`: succeeding is fine, throwing anything but a `WireError` is not.
func decodeOrWireError<M: WireMessage>(_ bytes: [UInt8], as type: M.Type) {
    do {
        _ = try M(serializedBytes: bytes)
    } catch is WireError {
    } catch {
        Issue.record("\(M.self): expected a WireError, got \(error) for \(bytes)")
    }
}

private typealias P = ProtobufBytes

/// Bytes that are not valid UTF-8: an invalid lead byte, an overlong NUL, a surrogate, a cut sequence.
private let invalidUTF8: [[UInt8]] = [[0xFF, 0xFE], [0xC0, 0x80], [0xED, 0xA0, 0x80], [0x61, 0xE2, 0x82]]

@Suite("Malformed input", .timeLimit(.minutes(1)), .hangWatchdog)
struct MalformedInputTests {
    @Test("Random bytes never crash the decoder", arguments: 0..<8)
    func randomBytes(seed: UInt64) {
        var generator = SplitMix64(seed: seed)
        for _ in 0..<300 {
            let count = Int.random(in: 0...96, using: &generator)
            let bytes = (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
            decodeOrWireError(bytes, as: Frame.self)
            decodeOrWireError(bytes, as: CallStart.self)
            decodeOrWireError(bytes, as: HealthCheckResponse.self)
            decodeOrWireError(bytes, as: ProgressEvent.self)
            decodeOrWireError(bytes, as: StartGenerationRequest.self)
            decodeOrWireError(bytes, as: GetStatusRequest.self)
            decodeOrWireError(bytes, as: ListJobsResponse.self)
            decodeOrWireError(bytes, as: ListServersResponse.self)
            decodeOrWireError(bytes, as: JobFinished.self)
        }
    }

    @Test("Every truncation of a valid encoding decodes or throws WireError")
    func truncations() throws {
        let event = ProgressEvent(
            seq: 9, jobID: "job", timeUnixMs: -5,
            kind: .finished(JobFinished(state: .failed, styles: [StyleSummary(style: "ink", usage: Usage(images: 3))])))
        let bytes = event.serializedBytes()
        for count in 0..<bytes.count { decodeOrWireError(Array(bytes.prefix(count)), as: ProgressEvent.self) }
        // Cut inside the last length-delimited field (the sub-message): must fail.
        expectWireError(.malformed, decoding: Array(bytes.dropLast()), as: ProgressEvent.self)

        let request = Samples.maxStartGenerationRequest.serializedBytes()
        expectWireError(.malformed, decoding: Array(request.dropLast()), as: StartGenerationRequest.self)
        expectWireError(.malformed, decoding: Array(request.prefix(request.count / 2)), as: StartGenerationRequest.self)

        let frame = Frame(callID: 1, kind: .start(CallStart(method: "m", request: [1, 2, 3]))).serializedBytes()
        for count in 0..<frame.count { decodeOrWireError(Array(frame.prefix(count)), as: Frame.self) }
        expectWireError(.malformed, decoding: Array(frame.dropLast()), as: Frame.self)
    }

    static let malformed: [DecodeCase] = [
        DecodeCase("a tag without a length", JobRequest.self, [0x0A]),
        DecodeCase("a length past the end", JobRequest.self, [0x0A, 0x05, 0x61]),
        DecodeCase("a varint tag without a value", WatchJobRequest.self, [0x10]),
        DecodeCase("a varint of 11 bytes", WatchJobRequest.self, [0x10] + Array(repeating: 0xFF, count: 10) + [0x01]),
        DecodeCase("a string sent as a varint", JobRequest.self, P.varintField(1, 1)),
        DecodeCase("a uint64 sent length-delimited", WatchJobRequest.self, P.lengthDelimited(2, [])),
        DecodeCase("a sub-message sent as a varint", Shot.self, P.varintField(2, 1)),
        DecodeCase("a oneof sub-message sent as a varint", ProgressEvent.self, P.varintField(5, 1)),
        DecodeCase("a frame's start sent as fixed32", Frame.self, P.tag(2, wireType: 5) + [0, 0, 0, 0]),
        DecodeCase("a nested sub-message cut short", Storyboard.self, P.lengthDelimited(1, [0x12, 0x04, 0x0A])),
        DecodeCase("wire type 7", JobRequest.self, [0x0F, 0x00]),
        DecodeCase("field number 0", JobRequest.self, [0x00, 0x00]),
    ]

    @Test("Malformed encodings throw .malformed", arguments: malformed)
    func malformedEncodings(_ testCase: DecodeCase) {
        testCase.expect(.malformed, nil, .default)
    }

    static let invalidStrings: [(DecodeCase, String)] = invalidUTF8.flatMap { bad in
        [
            (DecodeCase("JobRequest.job_id \(bad)", JobRequest.self, P.lengthDelimited(1, bad)), "JobRequest.job_id"),
            (DecodeCase("Beat.prompt \(bad)", Beat.self, P.lengthDelimited(2, bad)), "Beat.prompt"),
            (
                DecodeCase("Beat.id inside a Shot \(bad)", Shot.self, P.lengthDelimited(2, P.lengthDelimited(1, bad))),
                "Beat.id"
            ),
            (
                DecodeCase(
                    "StartGenerationRequest.styles[1] \(bad)", StartGenerationRequest.self,
                    P.lengthDelimited(3, Array("ok".utf8)) + P.lengthDelimited(3, bad)),
                "StartGenerationRequest.styles[1]"
            ),
            (
                DecodeCase("GetStatusRequest.project_dir \(bad)", GetStatusRequest.self, P.lengthDelimited(2, bad)),
                "GetStatusRequest.project_dir"
            ),
            (
                DecodeCase("ProgressEvent.message \(bad)", ProgressEvent.self, P.lengthDelimited(8, bad)),
                "ProgressEvent.message"
            ),
            (
                DecodeCase(
                    "BeatEvent.sha256 inside a ProgressEvent \(bad)", ProgressEvent.self,
                    P.lengthDelimited(5, P.lengthDelimited(10, bad))),
                "BeatEvent.sha256"
            ),
            (
                DecodeCase(
                    "JobStatus.beats[].error inside ListJobsResponse \(bad)", ListJobsResponse.self,
                    P.lengthDelimited(1, P.lengthDelimited(11, P.lengthDelimited(7, bad)))),
                "BeatStatus.error"
            ),
            (
                DecodeCase(
                    "ServerJob.project_dir inside ListServersResponse \(bad)", ListServersResponse.self,
                    P.lengthDelimited(1, P.lengthDelimited(5, P.lengthDelimited(2, bad)))),
                "ServerJob.project_dir"
            ),
            (DecodeCase("CallStatus.message \(bad)", CallStatus.self, P.lengthDelimited(2, bad)), "CallStatus.message"),
            (
                DecodeCase(
                    "CallStart.metadata value \(bad)", CallStart.self,
                    P.lengthDelimited(4, P.lengthDelimited(1, [0x6B]) + P.lengthDelimited(2, bad))),
                "CallStart.metadata[k]"
            ),
            (
                DecodeCase("GoAway.reason inside a Frame \(bad)", Frame.self, P.lengthDelimited(8, P.lengthDelimited(1, bad))),
                "GoAway.reason"
            ),
        ]
    }

    @Test("Invalid UTF-8 in a string field throws .invalidUTF8 naming the field", arguments: invalidStrings)
    func invalidUTF8Strings(_ testCase: DecodeCase, field: String) {
        testCase.expect(.invalidUTF8, field, .default)
    }

    static let unknownEnums: [(DecodeCase, String)] = [
        (DecodeCase("Beat.transition 3", Beat.self, P.varintField(3, 3)), "Beat.transition: unknown value 3"),
        (
            DecodeCase("Beat.transition inside a Storyboard", Storyboard.self,
                       P.lengthDelimited(1, P.lengthDelimited(2, P.varintField(3, 1000)))),
            "Beat.transition: unknown value 1000"
        ),
        (DecodeCase("BeatEvent.state 9", BeatEvent.self, P.varintField(4, 9)), "BeatEvent.state: unknown value 9"),
        (DecodeCase("GenerationOptions.delivery 4", GenerationOptions.self, P.varintField(3, 4)), "GenerationOptions.delivery: unknown value 4"),
        (
            DecodeCase("GenerationOptions.delivery inside a StartGenerationRequest", StartGenerationRequest.self,
                       P.lengthDelimited(4, P.varintField(3, 77))),
            "GenerationOptions.delivery: unknown value 77"
        ),
        (DecodeCase("BeatStatus.state 99", BeatStatus.self, P.varintField(4, 99)), "BeatStatus.state: unknown value 99"),
        (DecodeCase("KeyEvent.state 5", KeyEvent.self, P.varintField(3, 5)), "KeyEvent.state: unknown value 5"),
        (
            DecodeCase("JobStatus.state -1", JobStatus.self, P.varintField(3, UInt64(bitPattern: -1))),
            "JobStatus.state: unknown value -1"
        ),
        (
            DecodeCase("JobFinished.state inside a ProgressEvent", ProgressEvent.self,
                       P.lengthDelimited(9, P.varintField(1, 8))),
            "JobFinished.state: unknown value 8"
        ),
        (
            DecodeCase("HealthCheckResponse.status 3", HealthCheckResponse.self, P.varintField(1, 3)),
            "HealthCheckResponse.status: unknown value 3"
        ),
    ]

    @Test("An unknown enum value throws .invalidValue", arguments: unknownEnums)
    func unknownEnumValues(_ testCase: DecodeCase, message: String) {
        testCase.expect(.invalidValue, message, .default)
    }

    /// Unknown fields of every wire type: varint, fixed64, length-delimited, fixed32.
    static let unknownFields = P.varintField(99, .max) + P.tag(100, wireType: 1) + Array(repeating: 0xAB, count: 8)
        + P.lengthDelimited(101, Array("future 🎬".utf8)) + P.tag(102, wireType: 5) + [1, 2, 3, 4]
        + P.lengthDelimited(536_870_911, [0xFF, 0xFE])

    @Test("Unknown fields are ignored, at the top and nested")
    func unknownFieldsAreIgnored() throws {
        let request = JobRequest(jobID: "j1")
        #expect(try JobRequest(serializedBytes: Self.unknownFields + request.serializedBytes() + Self.unknownFields) == request)
        #expect(try ListJobsRequest(serializedBytes: Self.unknownFields) == ListJobsRequest())

        let beat = Beat(id: "b", prompt: "p", transition: .hardCut)
        let shot = try Shot(serializedBytes: P.lengthDelimited(1, [0x73]) + P.lengthDelimited(2, beat.serializedBytes() + Self.unknownFields))
        #expect(shot == Shot(id: "s", beats: [beat]))

        let frame = Frame(callID: 4, kind: .ping(nonce: 8))
        #expect(try Frame(serializedBytes: frame.serializedBytes() + Self.unknownFields) == frame)
        // A oneof case this version does not know (a future kind) reads as nil.
        #expect(try ProgressEvent(serializedBytes: P.varintField(1, 2) + P.lengthDelimited(15, [0x08, 0x01])) == ProgressEvent(seq: 2))
    }

    /// 100,000 empty `Beat` entries in a `Shot`: 200,000 bytes that unpack into ~7 MB of C structs.
    static let manyEmptyBeats = Array([[UInt8]](repeating: [0x12, 0x00], count: 100_000).joined())

    @Test("A small input claiming many elements exceeds a tight budget but decodes with the defaults")
    func decodeBudget() throws {
        let tight = DecodeLimits(bytesPerInputByte: 8, baseBudget: 4096)
        expectWireError(.budgetExceeded, decoding: Self.manyEmptyBeats, as: Shot.self, limits: tight)
        let shot = try Shot(serializedBytes: Self.manyEmptyBeats)
        #expect(shot.beats.count == 100_000)
        #expect(shot.beats.allSatisfy { $0 == Beat() })

        let capped = DecodeLimits(maxBudget: 64 * 1024)
        expectWireError(.budgetExceeded, decoding: Self.manyEmptyBeats, as: Shot.self, limits: capped)
        let frame = Frame(callID: 1, kind: .message(Samples.mebibyte)).serializedBytes()
        expectWireError(.budgetExceeded, decoding: frame, as: Frame.self, limits: capped)
        #expect(try Frame(serializedBytes: frame, limits: .default).kind == .message(Samples.mebibyte))
    }

    @Test("DecodeLimits.budget scales, caps and never overflows")
    func budgetArithmetic() {
        let limits = DecodeLimits(bytesPerInputByte: 64, baseBudget: 1000, maxBudget: 1_000_000)
        #expect(limits.budget(forInputBytes: 0) == 1000)
        #expect(limits.budget(forInputBytes: 10) == 1640)
        #expect(limits.budget(forInputBytes: 100_000) == 1_000_000)
        #expect(limits.budget(forInputBytes: .max) == 1_000_000)
    }
}
