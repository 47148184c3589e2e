import ImageGenWire
import ImageGenTestSupport
import Testing

@Suite("Known limits of protobuf-c", .timeLimit(.minutes(1)), .hangWatchdog)
struct ProtobufCLimitTests {
    @Test("A string holding U+0000 is cut at the NUL (protobuf-c strings are C strings)")
    func embeddedNUL() throws {
        withKnownIssue("protobuf-c represents string fields as NUL-terminated C strings") {
            try expectRoundTrip(CallStatus(code: 2, message: "before\u{0}after"))
        }
        // What happens instead, on both sides: nothing after the NUL survives, and nothing crashes.
        #expect(CallStatus(code: 2, message: "a\u{0}b").serializedBytes() == CallStatus(code: 2, message: "a").serializedBytes())
        let onTheWire = ProtobufBytes.lengthDelimited(1, [0x61, 0x00, 0x62])
        #expect(try JobRequest(serializedBytes: onTheWire) == JobRequest(jobID: "a"))
    }
}
