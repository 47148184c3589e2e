public import Foundation
internal import CProjectFS

/// Reading below the folder: entries, whole files under a cap, folder listings.
extension ProjectDirectory {

    /// What is at `relative`, without following a link; nil when nothing is (or a parent folder is missing).
    public func entry(_ relative: String) throws(EngineError) -> Entry? {
        let path = try Self.checked(relative)
        guard let parent = try openParent(of: path, create: false, sync: false) else { return nil }
        defer { parent.close() }
        var info = pfs_info()
        guard pfs_lstatat(parent.fd, parent.name, &info) == 0 else { throw Self.systemError("stat \(path)") }
        if info.kind == PFS_MISSING { return nil }
        return Entry(kind: Kind(info.kind), size: Int(info.size), modifiedNanoseconds: info.mtime_ns)
    }

    /// The bytes of the regular file at `relative`, or nil when it does not exist. Refuses (with
    /// `.unsafePath`) anything else at that path, and (with `.inputTooLarge`) a file over `limit`
    /// bytes; `limitName` names the setting that sets the cap. A FIFO never blocks the read.
    public func readFile(_ relative: String, limit: Int, limitName: String = "the size limit") throws(EngineError) -> Data? {
        let path = try Self.checked(relative)
        let fd = openBeneath(path, O_RDONLY | O_NONBLOCK)
        guard fd >= 0 else {
            if errno == ENOENT { return nil }
            throw failure(opening: path, expecting: .regularFile)
        }
        defer { Foundation.close(fd) }
        let size = try Self.requireRegular(fd, path: path)
        guard size <= limit else {
            throw EngineError(
                .inputTooLarge, "\(path) is \(size) bytes, more than \(limitName) (\(limit) bytes)")
        }
        return try Self.readAll(fd, expected: size, limit: limit, path: path, limitName: limitName)
    }

    /// Every entry of folder `relative` with its kind; empty when the folder does not exist.
    public func contents(of relative: String) throws(EngineError) -> [(name: String, kind: Kind)] {
        let path = try Self.checked(relative)
        let fd = openBeneath(path, O_RDONLY | O_DIRECTORY)
        guard fd >= 0 else {
            if errno == ENOENT { return [] }
            throw failure(opening: path, expecting: .directory)
        }
        defer { Foundation.close(fd) }
        return try Self.list(fd, path: path)
    }

    /// Fails unless `fd` is a regular file; clears O_NONBLOCK; returns its size.
    static func requireRegular(_ fd: Int32, path: String) throws(EngineError) -> Int {
        var info = pfs_info()
        guard pfs_fstat(fd, &info) == 0 else { throw systemError("stat \(path)") }
        guard info.kind == PFS_REGULAR else { throw unsafe(path, is: Kind(info.kind), expected: .regularFile) }
        guard pfs_clear_nonblock(fd) == 0 else { throw systemError("open \(path)") }
        return Int(info.size)
    }

    /// Reads `fd` to its end, at most `limit` bytes.
    static func readAll(_ fd: Int32, expected: Int, limit: Int, path: String, limitName: String) throws(EngineError) -> Data {
        var data = Data(count: max(expected, 0) + 1)
        var used = 0
        while true {
            if used == data.count {
                guard used <= limit else {
                    throw EngineError(.inputTooLarge, "\(path) grew past \(limitName) (\(limit) bytes) while being read")
                }
                data.count = min(max(data.count * 2, 4096), limit + 1)
            }
            let count = data.count
            let got = data.withUnsafeMutableBytes { buffer in Foundation.read(fd, buffer.baseAddress! + used, count - used) }
            if got < 0 {
                if errno == EINTR { continue }
                throw systemError("read \(path)")
            }
            if got == 0 { break }
            used += got
        }
        guard used <= limit else {
            throw EngineError(.inputTooLarge, "\(path) grew past \(limitName) (\(limit) bytes) while being read")
        }
        data.count = used
        return data
    }

    /// The entries of the open folder `fd`.
    static func list(_ fd: Int32, path: String) throws(EngineError) -> [(name: String, kind: Kind)] {
        var capacity = 64 * 1024
        while true {
            var buffer = [CChar](repeating: 0, count: capacity)
            let used = pfs_list_directory(fd, &buffer, capacity)
            if used < 0 {
                if errno == ERANGE {
                    capacity *= 4
                    continue
                }
                throw systemError("list \(path)")
            }
            var entries: [(name: String, kind: Kind)] = []
            var index = 0
            while index < used {
                let kind = Kind(Int32(buffer[index]))
                var end = index + 1
                while buffer[end] != 0 { end += 1 }
                let name = String(decoding: buffer[(index + 1)..<end].map { UInt8(bitPattern: $0) }, as: UTF8.self)
                entries.append((name, kind))
                index = end + 1
            }
            return entries
        }
    }
}
