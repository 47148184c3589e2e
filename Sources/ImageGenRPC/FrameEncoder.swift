import ImageGenWire
import NIOCore

/// Writes a `Frame` as its 4-byte big-endian length and the serialized frame.
struct FrameEncoder: MessageToByteEncoder {
    typealias OutboundIn = Frame

    func encode(data: Frame, out: inout ByteBuffer) throws {
        let payload = data.serializedBytes()
        out.reserveCapacity(out.writerIndex + 4 + payload.count)
        out.writeInteger(UInt32(payload.count), endianness: .big)
        out.writeBytes(payload)
    }
}
