import ImageGenWire
import Testing

/// Bytes to decode as one message type, as a test argument.
struct DecodeCase: Sendable, CustomTestStringConvertible {
    let testDescription: String
    let bytes: [UInt8]
    let expect: @Sendable (WireError.Code, String?, DecodeLimits) -> Void

    init<M: WireMessage>(_ name: String, _ type: M.Type, _ bytes: [UInt8]) {
        testDescription = name
        self.bytes = bytes
        expect = { code, mentioning, limits in
            expectWireError(code, decoding: bytes, as: M.self, limits: limits, mentioning: mentioning)
        }
    }
}
