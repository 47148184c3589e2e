public import Foundation
public import ImageGenEngine
public import ImageGenRPC

/// The folder under which every project a client names must lie. Resolves a client's
/// `project_dir` to a real directory inside it, refusing anything that escapes it through `..`,
/// an absolute path elsewhere, or a symbolic link, and refusing the server's own state directory.
/// A resolved project is opened as a ``ProjectDirectory`` below the root's own descriptor, so
/// every later file operation stays inside it.
public struct ProjectsRoot: Sendable {
    /// The root, with symbolic links resolved.
    public let url: URL
    /// The root folder, open: projects are opened below it without following links.
    public let directory: ProjectDirectory
    /// The real path of the server's state directory when it lies under the root: never a project.
    public private(set) var excludedPath: String?

    /// Resolves `path` (which must exist and be a directory) to its real location.
    public init(path: String) throws(RPCError) {
        guard let real = Self.realPath(path) else {
            throw RPCError(.failedPrecondition, "projects root \"\(path)\" does not exist")
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: real, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw RPCError(.failedPrecondition, "projects root \"\(path)\" is not a directory")
        }
        url = URL(fileURLWithPath: real, isDirectory: true)
        do {
            directory = try ProjectDirectory(url: url)
        } catch {
            throw RPCError(.failedPrecondition, "projects root \"\(path)\" cannot be opened: \(error.message)")
        }
    }

    /// This root, refusing `stateDirectory` (and everything under it) as a project.
    public func excluding(_ stateDirectory: URL) -> ProjectsRoot {
        var copy = self
        let lexical = stateDirectory.standardizedFileURL.path
        let path = Self.realPath(lexical) ?? lexical
        copy.excludedPath = Self.isInside(path, root: url.path) ? path : nil
        return copy
    }

    /// Opens the project a client names (see ``resolve(_:)``) below the root's descriptor.
    public func open(_ projectDir: String) throws(RPCError) -> ProjectDirectory {
        let real = try resolve(projectDir)
        let prefix = url.path.hasSuffix("/") ? url.path : url.path + "/"
        do {
            if real.path == url.path { return try directory.subdirectoryOrSelf(nil) }
            guard real.path.hasPrefix(prefix) else {
                throw RPCError(.permissionDenied, "project_dir \"\(projectDir)\" is outside the projects root")
            }
            return try directory.subdirectoryOrSelf(String(real.path.dropFirst(prefix.count)))
        } catch let error as EngineError {
            throw RPCError(.failedPrecondition, "project_dir \"\(projectDir)\": \(error.message)")
        } catch let error as RPCError {
            throw error
        } catch {
            throw RPCError(.internalError, "project_dir \"\(projectDir)\": \(error)")
        }
    }

    /// The real directory for a client's `project_dir`: relative to the root, or absolute inside it.
    /// - Throws: `RPCError` INVALID_ARGUMENT (empty, or a NUL byte), PERMISSION_DENIED (outside the root,
    ///   also through a symbolic link), NOT_FOUND (does not exist), FAILED_PRECONDITION (not a directory).
    public func resolve(_ projectDir: String) throws(RPCError) -> URL {
        guard !projectDir.isEmpty else {
            throw RPCError(.invalidArgument, "project_dir is empty: name a project folder under the projects root")
        }
        guard !projectDir.contains("\0") else {
            throw RPCError(.invalidArgument, "project_dir contains a NUL byte")
        }
        let candidate = projectDir.hasPrefix("/") ? projectDir : url.path + "/" + projectDir
        // Refuse a lexical escape first, so that a path outside the root is refused whether it exists or not.
        let lexical = URL(fileURLWithPath: candidate).standardizedFileURL.path
        guard Self.isInside(lexical, root: url.path) else {
            throw RPCError(.permissionDenied, "project_dir \"\(projectDir)\" is outside the projects root")
        }
        guard let real = Self.realPath(candidate) else {
            // Tell "outside" from "missing" by the part of the path that does exist.
            var existing = URL(fileURLWithPath: lexical)
            while Self.realPath(existing.path) == nil, existing.path != "/" { existing.deleteLastPathComponent() }
            if let prefix = Self.realPath(existing.path), !Self.isInside(prefix, root: url.path) {
                throw RPCError(.permissionDenied, "project_dir \"\(projectDir)\" leads outside the projects root (through a symbolic link)")
            }
            throw RPCError(.notFound, "project_dir \"\(projectDir)\" does not exist under the projects root")
        }
        guard Self.isInside(real, root: url.path) else {
            throw RPCError(.permissionDenied, "project_dir \"\(projectDir)\" leads outside the projects root (through a symbolic link)")
        }
        if let excludedPath, Self.isInside(real, root: excludedPath) {
            throw RPCError(.permissionDenied, "project_dir \"\(projectDir)\" is the server's state directory, not a project")
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: real, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw RPCError(.failedPrecondition, "project_dir \"\(projectDir)\" is not a directory")
        }
        return URL(fileURLWithPath: real, isDirectory: true)
    }

    static func isInside(_ path: String, root: String) -> Bool {
        let root = root.hasSuffix("/") ? String(root.dropLast()) : root
        return path == root || path.hasPrefix(root + "/")
    }

    /// realpath(3): the absolute path with every symbolic link, `.` and `..` resolved; nil if it does not exist.
    static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}
