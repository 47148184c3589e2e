internal import CImageGenWire
import Foundation

/// Owns the C memory of a protobuf-c struct tree while it is being packed: every string, byte
/// buffer, sub-message and array is allocated here and freed when the arena goes out of scope.
final class CArena {
    private var blocks: [UnsafeMutableRawPointer] = []

    deinit {
        for block in blocks { free(block) }
    }

    /// Runs `body` with a fresh arena and frees everything it allocated before returning.
    static func withArena<R>(_ body: (CArena) throws -> R) rethrows -> R {
        let arena = CArena()
        return try withExtendedLifetime(arena) { try body(arena) }
    }

    /// Zeroed memory for `count` values of `type`.
    func allocate<T>(_ type: T.Type, count: Int = 1) -> UnsafeMutablePointer<T> {
        let bytes = max(1, MemoryLayout<T>.stride * count)
        guard let raw = calloc(1, bytes) else { fatalError("out of memory allocating \(bytes) bytes") }
        blocks.append(raw)
        return raw.bindMemory(to: type, capacity: max(1, count))
    }

    /// A NUL-terminated copy of `string`. protobuf-c strings are C strings, so a string holding
    /// U+0000 is sent only up to its first NUL (a limit of protobuf-c, not of protobuf).
    func string(_ string: String) -> UnsafeMutablePointer<CChar> {
        var utf8 = Array(string.utf8)
        utf8.append(0)
        let pointer = allocate(CChar.self, count: utf8.count)
        utf8.withUnsafeBytes { source in
            UnsafeMutableRawPointer(pointer).copyMemory(from: source.baseAddress!, byteCount: source.count)
        }
        return pointer
    }

    /// A copy of `bytes` as protobuf-c binary data.
    func binary(_ bytes: [UInt8]) -> ProtobufCBinaryData {
        if bytes.isEmpty { return ProtobufCBinaryData(len: 0, data: nil) }
        let pointer = allocate(UInt8.self, count: bytes.count)
        bytes.withUnsafeBufferPointer { source in
            pointer.update(from: source.baseAddress!, count: source.count)
        }
        return ProtobufCBinaryData(len: bytes.count, data: pointer)
    }

    /// A C message initialised by protobuf-c and filled from `value`.
    func message<M: ProtobufCConvertible>(_ value: M) -> UnsafeMutablePointer<M.CMessage> {
        let pointer = allocate(M.CMessage.self)
        M.initialize(pointer)
        value.fill(pointer, arena: self)
        return pointer
    }

    /// A C message for an optional sub-message field: nil (absent on the wire) when `value` is nil.
    func optionalMessage<M: ProtobufCConvertible>(_ value: M?) -> UnsafeMutablePointer<M.CMessage>? {
        guard let value else { return nil }
        return message(value)
    }

    /// A C message for a sub-message field that reads as `defaultValue` when absent: like a proto3
    /// scalar, it is sent only when `value` differs from the default (nil otherwise).
    func message<M: ProtobufCConvertible & Equatable>(
        _ value: M, unlessEqualTo defaultValue: M
    ) -> UnsafeMutablePointer<M.CMessage>? {
        value == defaultValue ? nil : message(value)
    }

    /// An array of C messages for a repeated field: its count and pointer-to-pointers.
    func messages<M: ProtobufCConvertible>(
        _ values: [M]
    ) -> (count: Int, pointer: UnsafeMutablePointer<UnsafeMutablePointer<M.CMessage>?>?) {
        if values.isEmpty { return (0, nil) }
        let array = allocate(UnsafeMutablePointer<M.CMessage>?.self, count: values.count)
        for (index, value) in values.enumerated() {
            array[index] = message(value)
        }
        return (values.count, array)
    }

    /// An array of C strings for a repeated string field.
    func strings(_ values: [String]) -> (count: Int, pointer: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) {
        if values.isEmpty { return (0, nil) }
        let array = allocate(UnsafeMutablePointer<CChar>?.self, count: values.count)
        for (index, value) in values.enumerated() {
            array[index] = string(value)
        }
        return (values.count, array)
    }
}
