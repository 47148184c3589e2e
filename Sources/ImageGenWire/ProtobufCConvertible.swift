internal import CImageGenWire
import Foundation

/// A Swift message that knows its protobuf-c struct: how to initialise one, fill it for packing,
/// and copy one that protobuf-c unpacked. Internal: no C type leaves this module.
protocol ProtobufCConvertible {
    associatedtype CMessage

    /// Calls the generated `…__init` on fresh memory (it sets the descriptor and defaults).
    static func initialize(_ message: UnsafeMutablePointer<CMessage>)

    /// Copies this value into an initialised C struct; every pointer comes from `arena`.
    func fill(_ message: UnsafeMutablePointer<CMessage>, arena: CArena)

    /// Copies an unpacked C struct into a Swift value, validating strings and enums.
    init(c message: CMessage) throws
}

extension ProtobufCConvertible {
    /// The message's protobuf-c descriptor, read from an initialised struct (no copy of the global).
    static var descriptor: UnsafePointer<ProtobufCMessageDescriptor> {
        let probe = UnsafeMutablePointer<CMessage>.allocate(capacity: 1)
        defer { probe.deallocate() }
        initialize(probe)
        return probe.withMemoryRebound(to: ProtobufCMessage.self, capacity: 1) { $0.pointee.descriptor }
    }

    /// Packs the value with protobuf-c.
    func packedBytes() -> [UInt8] {
        CArena.withArena { arena in
            let message = arena.message(self)
            return message.withMemoryRebound(to: ProtobufCMessage.self, capacity: 1) { base in
                let size = protobuf_c_message_get_packed_size(base)
                if size == 0 { return [] }
                return [UInt8](unsafeUninitializedCapacity: size) { buffer, count in
                    count = protobuf_c_message_pack(base, buffer.baseAddress!)
                }
            }
        }
    }

    /// Unpacks `bytes` with a budgeted allocator, copies the result into Swift and frees it.
    init(unpacking bytes: [UInt8], limits: DecodeLimits, name: String) throws {
        let descriptor = Self.descriptor
        let budget = limits.budget(forInputBytes: bytes.count)
        var decoder = ImagegenDecoder()
        self = try withUnsafeMutablePointer(to: &decoder) { decoder in
            imagegen_decoder_init(decoder, budget)
            let unpacked: UnsafeMutablePointer<ProtobufCMessage>? = bytes.withUnsafeBufferPointer { buffer in
                imagegen_decoder_unpack(decoder, descriptor, buffer.count, buffer.baseAddress)
            }
            guard let unpacked else {
                if decoder.pointee.exhausted != 0 {
                    throw WireError(
                        .budgetExceeded,
                        "\(name): decoding \(bytes.count) bytes would need more than \(budget) bytes of memory")
                }
                throw WireError(.malformed, "\(name): \(bytes.count) bytes are not a valid \(name) message")
            }
            defer { imagegen_decoder_free(decoder, unpacked) }
            return try unpacked.withMemoryRebound(to: CMessage.self, capacity: 1) { try Self(c: $0.pointee) }
        }
    }
}

extension Bool {
    /// The value as a protobuf-c boolean (an `Int32`).
    var protobufC: Int32 { self ? 1 : 0 }
}

/// Reading fields of unpacked C structs.
enum CField {
    /// A string field as Swift, rejecting invalid UTF-8 with the field's name. protobuf-c hands
    /// strings over NUL-terminated, so one holding U+0000 on the wire reads up to its first NUL.
    static func string(_ pointer: UnsafeMutablePointer<CChar>?, _ field: String) throws -> String {
        guard let pointer else { return "" }
        let length = strlen(pointer)
        if length == 0 { return "" }
        let buffer = UnsafeRawBufferPointer(start: pointer, count: length).bindMemory(to: UInt8.self)
        guard let value = String(validating: buffer, as: UTF8.self) else {
            throw WireError(.invalidUTF8, "\(field) is not valid UTF-8")
        }
        return value
    }

    /// A bytes field as a Swift array.
    static func bytes(_ data: ProtobufCBinaryData) -> [UInt8] {
        guard data.len > 0, let pointer = data.data else { return [] }
        return Array(UnsafeBufferPointer(start: pointer, count: data.len))
    }

    /// A repeated message field, each element copied with `M.init(c:)`.
    static func messages<M: ProtobufCConvertible>(
        _ count: Int, _ pointer: UnsafeMutablePointer<UnsafeMutablePointer<M.CMessage>?>?, as type: M.Type
    ) throws -> [M] {
        guard count > 0, let pointer else { return [] }
        var result: [M] = []
        result.reserveCapacity(count)
        for index in 0..<count {
            guard let element = pointer[index] else { continue }
            result.append(try M(c: element.pointee))
        }
        return result
    }

    /// A repeated string field.
    static func strings(
        _ count: Int, _ pointer: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?, _ field: String
    ) throws -> [String] {
        guard count > 0, let pointer else { return [] }
        return try (0..<count).map { try string(pointer[$0], "\(field)[\($0)]") }
    }

    /// A protobuf-c boolean (an `Int32`) as `Bool`.
    static func bool(_ value: Int32) -> Bool { value != 0 }

    /// An optional sub-message.
    static func message<M: ProtobufCConvertible>(_ pointer: UnsafeMutablePointer<M.CMessage>?, as type: M.Type) throws -> M? {
        guard let pointer else { return nil }
        return try M(c: pointer.pointee)
    }
}
