public import Foundation
internal import CProjectFS

/// A project folder, opened once as a directory descriptor: every later file operation of the
/// engine and the service (images, `Shot_*` folders, progress files and journals, temporary files,
/// `storyboard.json`, style references, the project lock) is made relative to it, and never
/// follows a symbolic link or leaves the folder (`openat2` with `RESOLVE_BENEATH |
/// RESOLVE_NO_SYMLINKS` where the kernel has it, else one `O_NOFOLLOW` step per component).
///
/// A symbolic link, FIFO, device or socket where a file or folder is expected, or a folder where a
/// file is expected, is refused with an ``EngineError`` of code `.unsafePath` naming the
/// project-relative path; nothing outside the project is read, written, truncated or deleted.
/// Paths are project-relative, `/`-separated, without `.` or `..`. Blocking: call from a
/// ``BlockingIO`` queue, never from the cooperative pool.
///
/// ```swift
/// let project = try ProjectDirectory(url: folder, create: true)
/// let board = try project.readFile("storyboard.json", limit: 64 << 20)
/// ```
public final class ProjectDirectory: Sendable {
    /// Device and inode of the folder: two paths to one folder (a link, a bind mount) are one project.
    public struct Identity: Hashable, Sendable, CustomStringConvertible {
        public let device: UInt64
        public let inode: UInt64
        public var description: String { "\(device):\(inode)" }
    }

    /// What is found at a path.
    public enum Kind: Sendable, Equatable, CustomStringConvertible {
        case regularFile, directory, symbolicLink, fifo, device, socket, other

        init(_ raw: Int32) {
            switch raw {
            case Int32(PFS_REGULAR): self = .regularFile
            case Int32(PFS_DIRECTORY): self = .directory
            case Int32(PFS_SYMLINK): self = .symbolicLink
            case Int32(PFS_FIFO): self = .fifo
            case Int32(PFS_DEVICE): self = .device
            case Int32(PFS_SOCKET): self = .socket
            default: self = .other
            }
        }

        public var description: String {
            switch self {
            case .regularFile: "a regular file"
            case .directory: "a directory"
            case .symbolicLink: "a symbolic link"
            case .fifo: "a FIFO"
            case .device: "a device"
            case .socket: "a socket"
            case .other: "a special file"
            }
        }
    }

    /// An entry's kind, size and modification time.
    public struct Entry: Sendable, Equatable {
        public var kind: Kind
        public var size: Int
        public var modifiedNanoseconds: Int64
    }

    /// How paths below the folder are resolved.
    enum Resolution: Sendable {
        /// `openat2` where the kernel has it, else ``walk``.
        case automatic
        /// One `openat(O_NOFOLLOW)` per component (what older kernels get).
        case walk

        var raw: Int32 { self == .walk ? Int32(PFS_RESOLVE_WALK) : Int32(PFS_RESOLVE_AUTO) }
    }

    /// The folder's path, for messages and for the few callers that still need a URL.
    public let url: URL
    public let identity: Identity
    let descriptor: Int32
    let resolution: Resolution

    /// Opens the folder at `url` (created, with its parents, when `create` is set). The path to
    /// the folder itself is trusted (the service vets it: ``ImageGenService/ProjectsRoot``);
    /// everything below it is confined.
    public convenience init(url: URL, create: Bool = false) throws(EngineError) {
        try self.init(url: url, create: create, resolution: .automatic)
    }

    convenience init(url: URL, create: Bool, resolution: Resolution) throws(EngineError) {
        var fd = Foundation.open(url.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if fd < 0 && errno == ENOENT && create {
            do {
                try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
            } catch {
                throw EngineError(.io, "cannot create project folder \(url.path): \(error.localizedDescription)")
            }
            fd = Foundation.open(url.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        }
        guard fd >= 0 else { throw Self.systemError("open project folder \(url.path)") }
        try self.init(adopting: fd, url: url, resolution: resolution)
    }

    /// Takes ownership of `fd`, an open directory.
    private init(adopting fd: Int32, url: URL, resolution: Resolution) throws(EngineError) {
        var info = pfs_info()
        guard pfs_fstat(fd, &info) == 0 else {
            let error = Self.systemError("stat project folder \(url.path)")
            Foundation.close(fd)
            throw error
        }
        guard info.kind == PFS_DIRECTORY else {
            Foundation.close(fd)
            throw EngineError(.unsafePath, "project folder \(url.path) is \(Kind(info.kind)), not a directory")
        }
        self.descriptor = fd
        self.url = url
        self.resolution = resolution
        self.identity = Identity(device: info.device, inode: info.inode)
    }

    deinit { Foundation.close(descriptor) }

    /// The folder at `relative` below this one, confined like every other path (for the projects
    /// root: a project is a folder below it).
    public func subdirectory(_ relative: String) throws(EngineError) -> ProjectDirectory {
        let path = try Self.checked(relative)
        let fd = openBeneath(path, O_RDONLY | O_DIRECTORY)
        guard fd >= 0 else { throw failure(opening: path, expecting: .directory) }
        return try ProjectDirectory(adopting: fd, url: url.appendingPathComponent(path, isDirectory: true), resolution: resolution)
    }

    /// ``subdirectory(_:)``, or (with nil) a second descriptor of this folder itself.
    public func subdirectoryOrSelf(_ relative: String?) throws(EngineError) -> ProjectDirectory {
        guard let relative else {
            let fd = openat(descriptor, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            guard fd >= 0 else { throw Self.systemError("open \(url.path)") }
            return try ProjectDirectory(adopting: fd, url: url, resolution: resolution)
        }
        return try subdirectory(relative)
    }

    // MARK: - Reading

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

    // MARK: - Writing

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

    // MARK: - The one place bytes are written

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

    /// Whether this kernel has resolved a path with `openat2` in this process so far.
    static var kernelResolvesWithOpenat2: Bool { pfs_openat2_available() == 1 }

    // MARK: - Helpers

    /// An open parent folder and the last component of a path.
    struct Parent {
        let fd: Int32
        let owned: Bool
        let name: String
        func close() { if owned { Foundation.close(fd) } }
    }

    private func openBeneath(_ path: String, _ flags: Int32) -> Int32 {
        pfs_open_beneath(descriptor, path, flags, 0, resolution.raw)
    }

    /// The folder holding `path` (nil when missing and not `create`), created component by
    /// component when `create` is set, each new folder fsynced into its parent with `sync`.
    func openParent(of path: String, create: Bool, sync: Bool) throws(EngineError) -> Parent? {
        guard let slash = path.lastIndex(of: "/") else { return Parent(fd: descriptor, owned: false, name: path) }
        let folder = String(path[..<slash])
        let name = String(path[path.index(after: slash)...])
        let fd = openBeneath(folder, O_RDONLY | O_DIRECTORY)
        if fd >= 0 { return Parent(fd: fd, owned: true, name: name) }
        guard errno == ENOENT else { throw failure(opening: folder, expecting: .directory) }
        guard create else { return nil }
        return Parent(fd: try createFolders(folder, sync: sync), owned: true, name: name)
    }

    /// Opens folder `path`, creating each missing component; returns its descriptor.
    private func createFolders(_ path: String, sync: Bool) throws(EngineError) -> Int32 {
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
    private func refuseNonRegular(in parent: Parent, path: String) throws(EngineError) {
        var info = pfs_info()
        guard pfs_lstatat(parent.fd, parent.name, &info) == 0 else { throw Self.systemError("stat \(path)") }
        if info.kind != PFS_MISSING && info.kind != PFS_REGULAR {
            throw Self.unsafe(path, is: Kind(info.kind), expected: .regularFile)
        }
    }

    /// The error for a failed open of `path` (errno set): names the component that is not what it
    /// should be when the failure is a link, a non-folder or an escape.
    func failure(opening path: String, expecting expected: Kind) -> EngineError {
        let code = errno
        // ELOOP: a link (O_NOFOLLOW, RESOLVE_NO_SYMLINKS); ENOTDIR: a non-folder on the way; EXDEV:
        // an escape (RESOLVE_BENEATH); ENXIO: a FIFO without reader or a socket; EISDIR: a folder.
        guard [ELOOP, ENOTDIR, EXDEV, ENXIO, EISDIR].contains(code) else {
            errno = code
            return Self.systemError("open \(path)")
        }
        // Find the first component that is not a folder (or, last, not the expected kind).
        let components = path.split(separator: "/").map(String.init)
        var walked = ""
        var current = descriptor
        defer { if current != descriptor { Foundation.close(current) } }
        for (index, component) in components.enumerated() {
            walked = walked.isEmpty ? component : walked + "/" + component
            let last = index == components.count - 1
            var info = pfs_info()
            guard pfs_lstatat(current, component, &info) == 0 else { break }
            let kind = Kind(info.kind)
            if last {
                if kind != expected { return Self.unsafe(walked, is: kind, expected: expected) }
                break
            }
            if kind != .directory { return Self.unsafe(walked, is: kind, expected: .directory) }
            let next = pfs_open_beneath(current, component, O_RDONLY | O_DIRECTORY, 0, Int32(PFS_RESOLVE_WALK))
            guard next >= 0 else { break }
            if current != descriptor { Foundation.close(current) }
            current = next
        }
        return EngineError(
            .unsafePath, "\(path) cannot be opened inside the project without following a link (\(String(cString: strerror(code))))")
    }

    static func unsafe(_ path: String, is kind: Kind, expected: Kind) -> EngineError {
        let hint = kind == .symbolicLink ? "; links inside a project are not followed" : ""
        return EngineError(
            .unsafePath, "\(path) in the project is \(kind), not \(expected)\(hint): replace it with \(expected) or remove it")
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

    /// `relative`, checked to be a project-relative path without empty, `.` or `..` components.
    static func checked(_ relative: String) throws(EngineError) -> String {
        let parts = relative.split(separator: "/", omittingEmptySubsequences: false)
        guard !relative.isEmpty, !relative.contains("\0"),
            parts.allSatisfy({ !$0.isEmpty && $0 != "." && $0 != ".." && $0.utf8.count < 256 })
        else {
            throw EngineError(.unsafePath, "\(ValidatedStoryboard.quoted(relative)) is not a path inside the project")
        }
        return relative
    }

    static func systemError(_ what: String) -> EngineError {
        let code = errno
        return EngineError(.io, "cannot \(what): \(String(cString: strerror(code)))")
    }
}
