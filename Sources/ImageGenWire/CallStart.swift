internal import CImageGenWire

/// Opens a call (`imagegen.v1.CallStart`): the method, the serialized request, a deadline, metadata.
public struct CallStart: WireMessage {
    /// Full method name, e.g. "imagegen.v1.Health/Check".
    public var method: String
    /// The serialized request message.
    public var request: [UInt8]
    /// When > 0, the call ends with DEADLINE_EXCEEDED after this many milliseconds.
    public var timeoutMilliseconds: UInt32
    /// Call metadata, e.g. "authorization" → "Bearer <token>".
    public var metadata: [String: String]

    public init(method: String, request: [UInt8] = [], timeoutMilliseconds: UInt32 = 0, metadata: [String: String] = [:]) {
        self.method = method
        self.request = request
        self.timeoutMilliseconds = timeoutMilliseconds
        self.metadata = metadata
    }

    public init(serializedBytes bytes: [UInt8], limits: DecodeLimits) throws {
        try self.init(unpacking: bytes, limits: limits, name: "CallStart")
    }

    public func serializedBytes() -> [UInt8] { packedBytes() }
}

extension CallStart: ProtobufCConvertible {
    typealias CMessage = Imagegen__V1__CallStart

    static func initialize(_ message: UnsafeMutablePointer<CMessage>) { imagegen__v1__call_start__init(message) }

    func fill(_ c: UnsafeMutablePointer<CMessage>, arena: CArena) {
        c.pointee.method = arena.string(method)
        c.pointee.request = arena.binary(request)
        c.pointee.timeout_ms = timeoutMilliseconds
        if !metadata.isEmpty {
            let entries = arena.allocate(UnsafeMutablePointer<Imagegen__V1__CallStart__MetadataEntry>?.self, count: metadata.count)
            // Sorted, so the same metadata always packs to the same bytes.
            for (index, (key, value)) in metadata.sorted(by: { $0.key < $1.key }).enumerated() {
                let entry = arena.allocate(Imagegen__V1__CallStart__MetadataEntry.self)
                imagegen__v1__call_start__metadata_entry__init(entry)
                entry.pointee.key = arena.string(key)
                entry.pointee.value = arena.string(value)
                entries[index] = entry
            }
            c.pointee.n_metadata = metadata.count
            c.pointee.metadata = entries
        }
    }

    init(c: CMessage) throws {
        method = try CField.string(c.method, "CallStart.method")
        request = CField.bytes(c.request)
        timeoutMilliseconds = c.timeout_ms
        var metadata: [String: String] = [:]
        if c.n_metadata > 0, let entries = c.metadata {
            for index in 0..<c.n_metadata {
                guard let entry = entries[index] else { continue }
                let key = try CField.string(entry.pointee.key, "CallStart.metadata key")
                metadata[key] = try CField.string(entry.pointee.value, "CallStart.metadata[\(key)]")
            }
        }
        self.metadata = metadata
    }
}
