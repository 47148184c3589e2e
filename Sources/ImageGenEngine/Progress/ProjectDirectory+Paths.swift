import Foundation
internal import CProjectFS

/// Resolving paths below the folder without following links, and the errors that name them.
extension ProjectDirectory {
    /// Whether this kernel has resolved a path with `openat2` in this process so far.
    static var kernelResolvesWithOpenat2: Bool { pfs_openat2_available() == 1 }

    /// An open parent folder and the last component of a path.
    struct Parent {
        let fd: Int32
        let owned: Bool
        let name: String
        func close() { if owned { Foundation.close(fd) } }
    }

    func openBeneath(_ path: String, _ flags: Int32) -> Int32 {
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
