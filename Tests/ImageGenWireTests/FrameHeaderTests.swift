import ImageGenWire
import ImageGenTestSupport
import Testing

@Suite("FrameHeader", .timeLimit(.minutes(1)), .hangWatchdog)
struct FrameHeaderTests {
    static let limit = FrameHeader.defaultMaxFrameBytes

    @Test("validate accepts 1 through the limit", arguments: [UInt32(1), 2, UInt32(limit) - 1, UInt32(limit)])
    func validAccepts(length: UInt32) throws {
        try FrameHeader.validate(length: length, maxFrameBytes: Self.limit)
    }

    @Test("validate rejects 0 as an empty frame")
    func validateRejectsZero() {
        #expect(throws: WireError(.emptyFrame, "frame length is 0")) {
            try FrameHeader.validate(length: 0, maxFrameBytes: Self.limit)
        }
    }

    @Test("validate rejects lengths above the limit", arguments: [UInt32(limit) + 1, UInt32(limit) * 2, .max])
    func validateRejectsTooLarge(length: UInt32) {
        let error = #expect(throws: WireError.self) {
            try FrameHeader.validate(length: length, maxFrameBytes: Self.limit)
        }
        #expect(error?.code == .frameTooLarge)
        #expect(error?.message.contains("\(length)") == true)
    }

    @Test("validate with a tiny and a huge limit")
    func otherLimits() throws {
        try FrameHeader.validate(length: 1, maxFrameBytes: 1)
        #expect(throws: WireError.self) { try FrameHeader.validate(length: 2, maxFrameBytes: 1) }
        try FrameHeader.validate(length: .max, maxFrameBytes: Int(UInt32.max))
        #expect(throws: WireError.self) { try FrameHeader.validate(length: 1, maxFrameBytes: 0) }
    }

    @Test("encode and decodeLength", arguments: [
        (0, [0x00, 0x00, 0x00, 0x00]),
        (1, [0x00, 0x00, 0x00, 0x01]),
        (0x0102_0304, [0x01, 0x02, 0x03, 0x04]),
        (limit, [0x01, 0x00, 0x00, 0x00]),
        (limit + 1, [0x01, 0x00, 0x00, 0x01]),
        (Int(UInt32.max), [0xFF, 0xFF, 0xFF, 0xFF]),
    ] as [(Int, [UInt8])])
    func encodeDecode(length: Int, bytes: [UInt8]) {
        #expect(FrameHeader.encode(length: length) == bytes)
        #expect(FrameHeader.decodeLength(bytes) == UInt32(length))
        // Only the first four bytes count, from any collection.
        #expect(FrameHeader.decodeLength(bytes + [0xEE, 0xDD]) == UInt32(length))
        #expect(FrameHeader.decodeLength(ArraySlice(bytes)) == UInt32(length))
    }

    @Test("size is 4")
    func size() {
        #expect(FrameHeader.size == 4)
        #expect(FrameHeader.encode(length: 12345).count == FrameHeader.size)
    }
}
