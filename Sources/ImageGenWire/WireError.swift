/// Why bytes could not be read as a message or a frame. Callers switch on `code`; people read `message`.
public struct WireError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The kind of failure.
    public enum Code: String, Sendable, Equatable {
        /// A frame's length prefix is 0.
        case emptyFrame
        /// A frame's length prefix is above the receiver's limit.
        case frameTooLarge
        /// protobuf-c could not unpack the bytes (malformed, truncated, wrong wire types).
        case malformed
        /// Unpacking would have needed more memory than the decode budget allows.
        case budgetExceeded
        /// A string field is not valid UTF-8.
        case invalidUTF8
        /// A field holds a value outside what the schema allows (an unknown enum value, say).
        case invalidValue
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
