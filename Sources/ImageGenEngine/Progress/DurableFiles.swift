public import Foundation
internal import Crypto
internal import Dispatch

/// Blocking file work, run on a serial `DispatchQueue` so it never blocks the cooperative pool.
public struct BlockingIO: Sendable {
    let queue: DispatchQueue

    public init(label: String) {
        queue = DispatchQueue(label: label)
    }

    /// Runs `body` on the queue and resumes with its result, keeping the error's type. Not
    /// cancellable: once started, the work finishes (an image is either fully renamed into place or
    /// not at all).
    public func run<T: Sendable, E: Error>(_ body: @escaping @Sendable () throws(E) -> T) async throws(E) -> T {
        try await runResult(body).get()
    }

    /// ``run(_:)``, its outcome as a `Result`.
    public func runResult<T: Sendable, E: Error>(_ body: @escaping @Sendable () throws(E) -> T) async -> Result<T, E> {
        await withCheckedContinuation { continuation in
            queue.async { continuation.resume(returning: Result { () throws(E) -> T in try body() }) }
        }
    }
}

/// Durable writes outside projects (the service's state file): temp file in the same directory,
/// fsync, rename, fsync the directory. Project files go through ``ProjectDirectory``.
public enum DurableFiles {
    static func sha256Hex<D: DataProtocol>(_ data: D) -> String {
        hex(SHA256.hash(data: data))
    }

    /// Lower-case hex of some bytes (String(format:) is slow on Linux).
    static func hex<S: Sequence>(_ bytes: S) -> String where S.Element == UInt8 {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(64)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Writes `data` to `url` atomically; with `sync` it survives power loss once this returns.
    public static func write(_ data: Data, to url: URL, sync: Bool) throws {
        try write(to: url, sync: sync) { append in try append(data) }
    }

    /// Writes a file atomically from pieces: `body` calls `append` with each piece in order, so a
    /// large file never has to be held in memory whole. With `sync` it survives power loss once
    /// this returns; if `body` throws, `url` is left untouched.
    static func write(to url: URL, sync: Bool, body: (_ append: (Data) throws -> Void) throws -> Void) throws {
        let directory = url.deletingLastPathComponent()
        let temp = directory.appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        var fd = open(temp.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        if fd < 0 && errno == ENOENT {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            fd = open(temp.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        }
        guard fd >= 0 else { throw posixError("create \(temp.path)") }
        var ok = false
        defer {
            if !ok { unlink(temp.path) }
        }
        do {
            defer { close(fd) }
            try body { data in
                try data.withUnsafeBytes { buffer in
                    var offset = 0
                    while offset < buffer.count {
                        let written = Foundation.write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                        if written < 0 {
                            if errno == EINTR { continue }
                            throw posixError("write \(temp.path)")
                        }
                        offset += written
                    }
                }
            }
            if sync, fsync(fd) != 0 { throw posixError("fsync \(temp.path)") }
        }
        guard rename(temp.path, url.path) == 0 else { throw posixError("rename to \(url.path)") }
        ok = true
        if sync { try syncDirectory(directory) }
    }

    static func syncDirectory(_ directory: URL) throws {
        let fd = open(directory.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw posixError("open directory \(directory.path)") }
        defer { close(fd) }
        if fsync(fd) != 0 { throw posixError("fsync directory \(directory.path)") }
    }

    static func posixError(_ what: String) -> EngineError {
        let code = errno
        return EngineError(.io, "cannot \(what): \(String(cString: strerror(code)))")
    }
}
