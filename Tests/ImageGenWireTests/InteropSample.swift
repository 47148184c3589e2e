import ImageGenWire

/// One value built the same way in Swift and in `PythonInterop.script`.
struct InteropSample: Sendable {
    let name: String
    let encode: @Sendable () -> [UInt8]
    let decodesToSwiftValue: @Sendable ([UInt8]) throws -> Bool

    init<M: WireMessage>(_ name: String, _ value: M) {
        self.name = name
        encode = { value.serializedBytes() }
        decodesToSwiftValue = { try M(serializedBytes: $0) == value }
    }
}
