import ImageGenWire
import ImageGenTestSupport
import Testing

/// A response frame assembled from parts encoded beforehand must be byte for byte what protobuf-c
/// packs for the whole frame: the server sends one encoding of an event to every watcher this way.
@Suite("Response frames assembled from a call's field and an encoded message", .timeLimit(.minutes(1)), .hangWatchdog)
struct EncodedMessageTests {
    /// Call ids around every varint length boundary.
    static let callIDs: [UInt64] = [0, 1, 127, 128, 16_383, 16_384, 1 << 35, .max]

    @Test("callIDField + frameField == the packed Frame{call_id, message}", arguments: Samples.progressKinds.map(\.0))
    func assembledFrameIsThePackedFrame(kindName: String) throws {
        let kind = try #require(Samples.progressKinds.first { $0.0 == kindName }).1
        let event = ProgressEvent(seq: 42, jobID: "job-1", timeUnixMs: 1_700_000_000_000, kind: kind)
        let encoded = EncodedMessage(event)
        for callID in Self.callIDs {
            let whole = Frame(callID: callID, kind: .message(event.serializedBytes())).serializedBytes()
            #expect(Frame.callIDField(callID) + encoded.frameField == whole, "call id \(callID)")
            let decoded = try Frame(serializedBytes: Frame.callIDField(callID) + encoded.frameField)
            #expect(decoded == Frame(callID: callID, kind: .message(event.serializedBytes())))
        }
        #expect(try encoded.decoded() == event)
    }

    @Test("an empty message still makes a message frame")
    func emptyMessage() throws {
        let encoded = EncodedMessage(HealthCheckRequest())
        #expect(!encoded.frameField.isEmpty)
        let frame = try Frame(serializedBytes: Frame.callIDField(9) + encoded.frameField)
        #expect(frame == Frame(callID: 9, kind: .message([])))
        #expect(try encoded.decoded() == HealthCheckRequest())
    }

    @Test("a 160 kB message")
    func largeMessage() throws {
        let status = CallStatus(code: 3, message: Samples.longString)
        let encoded = EncodedMessage(status)
        #expect(Frame.callIDField(.max) + encoded.frameField
            == Frame(callID: .max, kind: .message(status.serializedBytes())).serializedBytes())
        #expect(try encoded.decoded() == status)
    }
}
