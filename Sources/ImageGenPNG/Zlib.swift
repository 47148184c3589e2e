internal import CZlib

/// zlib, the system library, over whole buffers: zlib streams (RFC 1950) and gzip members
/// (RFC 1952) in both directions, and the CRC-32 and Adler-32 checksums. Each call sets up and
/// releases its own zlib state; the output for the same input and level is the same bytes.
///
/// ```swift
/// let stream = try Zlib.compress(bytes)
/// let back = try Zlib.decompress(stream, maximumLength: bytes.count)
/// ```
public enum Zlib {
    /// The wrapper around the deflate data.
    public enum Format: Sendable {
        /// RFC 1950: a 2-byte header and an Adler-32 (PNG's IDAT).
        case zlib
        /// RFC 1952: a 10-byte header, a CRC-32 and the length (HTTP's `Content-Encoding: gzip`).
        case gzip
    }

    /// zlib's own level (6): its balance of size and speed.
    public static let defaultLevel = Int(Z_DEFAULT_COMPRESSION)

    /// The zlib version linked at run time.
    public static var version: String { String(cString: czlib_version()) }

    /// Compresses `bytes` into one stream of `format` at `level` (0 = stored … 9 = smallest, or
    /// ``defaultLevel``).
    public static func compress(_ bytes: [UInt8], format: Format = .zlib, level: Int = defaultLevel) throws(ZlibError)
        -> [UInt8]
    {
        guard let zlibLevel = Int32(exactly: level) else { throw ZlibError(.compress, status: Z_STREAM_ERROR, detail: nil) }
        let capacity = czlib_deflate_bound(bytes.count)
        var status = Z_OK
        var detail: UnsafePointer<CChar>?
        let output = bytes.withUnsafeBufferPointer { input in
            [UInt8](unsafeUninitializedCapacity: capacity) { out, written in
                status = czlib_deflate(
                    input.baseAddress, input.count, zlibLevel, format.gzipFlag, out.baseAddress, out.count, &written,
                    &detail)
                if status != Z_OK { written = 0 }
            }
        }
        guard status == Z_OK else { throw ZlibError(.compress, status: status, detail: detail) }
        return output
    }

    /// Decompresses the one stream of `format` that `bytes` must hold (nothing may follow it),
    /// refusing to write more than `maximumLength` bytes.
    public static func decompress(_ bytes: [UInt8], format: Format = .zlib, maximumLength: Int) throws(ZlibError)
        -> [UInt8]
    {
        var status = Z_OK
        var consumed = 0
        var detail: UnsafePointer<CChar>?
        let output = bytes.withUnsafeBufferPointer { input in
            [UInt8](unsafeUninitializedCapacity: max(0, maximumLength)) { out, written in
                status = czlib_inflate(
                    input.baseAddress, input.count, format.gzipFlag, out.baseAddress, out.count, &written, &consumed,
                    &detail)
                if status != Z_OK { written = 0 }
            }
        }
        guard status == Z_OK else {
            throw ZlibError(.decompress, status: status, detail: detail, limit: maximumLength)
        }
        guard consumed == bytes.count else { throw ZlibError(trailingBytes: bytes.count - consumed) }
        return output
    }

    /// The CRC-32 of `bytes`, continuing from `running` (the CRC-32 of what came before them).
    public static func crc32(_ bytes: some Sequence<UInt8>, continuing running: UInt32 = 0) -> UInt32 {
        withContiguous(bytes) { UInt32(truncatingIfNeeded: czlib_crc32(UInt(running), $0.baseAddress, $0.count)) }
    }

    /// The Adler-32 of `bytes`, continuing from `running` (1 for none).
    public static func adler32(_ bytes: some Sequence<UInt8>, continuing running: UInt32 = 1) -> UInt32 {
        withContiguous(bytes) { UInt32(truncatingIfNeeded: czlib_adler32(UInt(running), $0.baseAddress, $0.count)) }
    }

    private static func withContiguous<Result>(
        _ bytes: some Sequence<UInt8>, _ body: (UnsafeBufferPointer<UInt8>) -> Result
    ) -> Result {
        if let result = bytes.withContiguousStorageIfAvailable(body) { return result }
        return Array(bytes).withUnsafeBufferPointer(body)
    }
}

extension Zlib.Format {
    fileprivate var gzipFlag: Int32 { self == .gzip ? 1 : 0 }
}
