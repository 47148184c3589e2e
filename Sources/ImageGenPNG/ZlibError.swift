internal import CZlib

/// A zlib operation that failed: which one, zlib's status as ``Code``, and a message that says
/// what it means (zlib's own words where it gave some).
public struct ZlibError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The direction that failed.
    public enum Operation: String, Sendable {
        case compress
        case decompress
    }

    /// What went wrong, by zlib's status name.
    public enum Code: String, Sendable {
        /// Z_MEM_ERROR: zlib could not allocate its state.
        case outOfMemory = "Z_MEM_ERROR"
        /// Z_STREAM_ERROR: a parameter zlib refused (a level outside -1…9).
        case invalidParameter = "Z_STREAM_ERROR"
        /// Z_DATA_ERROR: the input is not a valid stream (bad header, block or check value).
        case corruptData = "Z_DATA_ERROR"
        /// Z_BUF_ERROR: the output did not fit in the room given.
        case outputTooLarge = "Z_BUF_ERROR"
        /// The input ended before the stream did.
        case truncated = "TRUNCATED"
        /// Bytes follow the end of the stream.
        case trailingData = "TRAILING_DATA"
        /// Z_NEED_DICT: the stream needs a preset dictionary.
        case needsDictionary = "Z_NEED_DICT"
        /// Z_VERSION_ERROR: the zlib library linked is incompatible with the headers built against.
        case incompatibleVersion = "Z_VERSION_ERROR"
        /// A status this wrapper does not know.
        case unknown = "UNKNOWN"
    }

    /// The direction that failed.
    public let operation: Operation
    /// zlib's status.
    public let code: Code
    /// What happened, for a person: at most a few hundred bytes.
    public let message: String

    public var description: String { message }

    init(_ operation: Operation, status: Int32, detail: UnsafePointer<CChar>?, limit: Int? = nil) {
        self.operation = operation
        code = Self.code(status)
        var text = "zlib \(operation.rawValue) failed (\(code.rawValue)): \(Self.meaning(code, status: status, limit: limit))"
        if let detail { text += ": " + String(String(cString: detail).prefix(200)) }
        message = text
    }

    init(trailingBytes: Int) {
        operation = .decompress
        code = .trailingData
        message = "zlib decompress failed (\(code.rawValue)): \(trailingBytes) bytes follow the end of the stream"
    }

    private static func code(_ status: Int32) -> Code {
        switch status {
        case Z_MEM_ERROR: .outOfMemory
        case Z_STREAM_ERROR: .invalidParameter
        case Z_DATA_ERROR: .corruptData
        case Z_BUF_ERROR: .outputTooLarge
        case CZLIB_TRUNCATED: .truncated
        case Z_NEED_DICT: .needsDictionary
        case Z_VERSION_ERROR: .incompatibleVersion
        default: .unknown
        }
    }

    private static func meaning(_ code: Code, status: Int32, limit: Int?) -> String {
        switch code {
        case .outOfMemory: "out of memory"
        case .invalidParameter: "invalid parameter (the level must be -1 to 9)"
        case .corruptData: "the input is not a valid stream"
        case .outputTooLarge: "the output would exceed \(limit.map { "\($0) bytes" } ?? "the room given")"
        case .truncated: "the input ended before the end of the stream"
        case .trailingData: "bytes follow the end of the stream"
        case .needsDictionary: "the stream needs a preset dictionary"
        case .incompatibleVersion: "the zlib library (\(Zlib.version)) does not match its headers"
        case .unknown: "unexpected zlib status \(status)"
        }
    }
}
