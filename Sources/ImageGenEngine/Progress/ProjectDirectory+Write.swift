import Foundation
internal import CProjectFS

/// Writing below the folder: atomic files, append-only files, clean-up; the one place bytes are written.
extension ProjectDirectory {

    /// Writes the file at `relative` atomically, from pieces: `body` calls `append` with each piece
    /// in order. Parent folders are created as needed (and, with `sync`, fsynced into their
    /// parents). A temporary file next to it is written, fsynced (with `sync`) and renamed over
    /// `relative`, then the folder is fsynced. If `body` throws, nothing at `relative` changes.
    /// Refuses when something other than a regular file is at `relative`.
    func writeFile(_ relative: String, sync: Bool, body: (_ append: (Data) throws -> Void) throws -> Void) throws {
        let path = try Self.checked(relative)
        guard let parent = try openParent(of: path, create: true, sync: sync) else {
            throw EngineError(.io, "cannot create the folder of \(path)")
        }
        defer { parent.close() }
        try refuseNonRegular(in: parent, path: path)
        let temp = ".\(parent.name).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let fd = pfs_open_beneath(parent.fd, temp, O_WRONLY | O_CREAT | O_EXCL, 0o644, resolution.raw)
        guard fd >= 0 else { throw Self.systemError("create a temporary file for \(path)") }
        var renamed = false
        defer { if !renamed { unlinkat(parent.fd, temp, 0) } }
        do {
            defer { Foundation.close(fd) }
            try body { data in try Self.writeAll(fd, data, path: path) }
            if sync, fsync(fd) != 0 { throw Self.systemError("fsync \(path)") }
        }
        guard renameat(parent.fd, temp, parent.fd, parent.name) == 0 else { throw Self.systemError("rename into \(path)") }
        renamed = true
        if sync, fsync(parent.fd) != 0 { throw Self.systemError("fsync the folder of \(path)") }
    }

    /// Opens the file at `relative` for appending, creating it (and its parents) if missing; with
    /// `sync`, a newly created file is fsynced into its folder. Refuses anything but a regular file.
    /// The caller owns the returned descriptor.
    func openForAppend(_ relative: String, sync: Bool) throws -> Int32 {
        let path = try Self.checked(relative)
        guard let parent = try openParent(of: path, create: true, sync: sync) else {
            throw EngineError(.io, "cannot create the folder of \(path)")
        }
        defer { parent.close() }
        var created = false
        var fd = pfs_open_beneath(parent.fd, parent.name, O_WRONLY | O_APPEND | O_NONBLOCK, 0, resolution.raw)
        if fd < 0 && errno == ENOENT {
            fd = pfs_open_beneath(parent.fd, parent.name, O_WRONLY | O_APPEND | O_CREAT | O_EXCL, 0o644, resolution.raw)
            created = fd >= 0
        }
        guard fd >= 0 else { throw failure(opening: path, expecting: .regularFile) }
        do {
            _ = try Self.requireRegular(fd, path: path)
            if created && sync {
                if fsync(fd) != 0 { throw Self.systemError("fsync \(path)") }
                if fsync(parent.fd) != 0 { throw Self.systemError("fsync the folder of \(path)") }
            }
        } catch {
            Foundation.close(fd)
            throw error
        }
        return fd
    }

    /// Removes the regular files in folder `relative` whose names `isTemporary` accepts; a missing
    /// folder is fine. Nothing but regular files directly in that folder is ever removed.
    func removeFiles(in relative: String, where isTemporary: (String) -> Bool) throws {
        let path = try Self.checked(relative)
        let fd = openBeneath(path, O_RDONLY | O_DIRECTORY)
        guard fd >= 0 else {
            if errno == ENOENT { return }
            throw failure(opening: path, expecting: .directory)
        }
        defer { Foundation.close(fd) }
        for (name, kind) in try Self.list(fd, path: path) where kind == .regularFile && isTemporary(name) {
            unlinkat(fd, name, 0)
        }
    }

    /// Writes all of `data` to `fd`, retrying short writes and EINTR.
    static func writeAll(_ fd: Int32, _ data: Data, path: String) throws {
        try data.withUnsafeBytes { (buffer: UnsafeRawBufferPointer) throws in
            guard let base = buffer.baseAddress else { return }
            var offset = 0
            while offset < buffer.count {
                let written = Foundation.write(fd, base + offset, buffer.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    throw systemError("write \(path)")
                }
                offset += written
            }
        }
    }

    /// Opens folder `path`, creating each missing component; returns its descriptor.
    func createFolders(_ path: String, sync: Bool) throws(EngineError) -> Int32 {
        var current = descriptor
        var walked = ""
        for component in path.split(separator: "/").map(String.init) {
            walked = walked.isEmpty ? component : walked + "/" + component
            var next = pfs_open_beneath(current, component, O_RDONLY | O_DIRECTORY, 0, Int32(PFS_RESOLVE_WALK))
            if next < 0 && errno == ENOENT {
                if mkdirat(current, component, 0o755) != 0 && errno != EEXIST {
                    let error = Self.systemError("create folder \(walked)")
                    if current != descriptor { Foundation.close(current) }
                    throw error
                }
                if sync && fsync(current) != 0 {
                    let error = Self.systemError("fsync the folder holding \(walked)")
                    if current != descriptor { Foundation.close(current) }
                    throw error
                }
                next = pfs_open_beneath(current, component, O_RDONLY | O_DIRECTORY, 0, Int32(PFS_RESOLVE_WALK))
            }
            if next < 0 {
                let error = failure(opening: walked, expecting: .directory)
                if current != descriptor { Foundation.close(current) }
                throw error
            }
            if current != descriptor { Foundation.close(current) }
            current = next
        }
        return current
    }

    /// Refuses when something other than a regular file is at `parent.name`.
    func refuseNonRegular(in parent: Parent, path: String) throws(EngineError) {
        var info = pfs_info()
        guard pfs_lstatat(parent.fd, parent.name, &info) == 0 else { throw Self.systemError("stat \(path)") }
        if info.kind != PFS_MISSING && info.kind != PFS_REGULAR {
            throw Self.unsafe(path, is: Kind(info.kind), expected: .regularFile)
        }
    }

}
