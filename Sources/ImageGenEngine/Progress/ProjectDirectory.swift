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
}
