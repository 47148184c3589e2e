import Foundation
internal import CProjectFS

/// The exclusive lock of one project, held by the job that renders it: `flock` on the project
/// folder itself (so two paths to one folder, or two server processes, contend for one lock), with
/// who holds it written to `.imagegen.lock` for the others' messages. The kernel releases the lock
/// when the holder closes it, exits or crashes; the file stays. Release it by dropping the value.
public final class ProjectLock: Sendable {
    /// The file that names the holder.
    public static let holderFile = ".imagegen.lock"
    /// The holder description is cut to this many bytes when another process reads it.
    static let holderBytes = 256

    private let descriptor: Int32

    private init(descriptor: Int32) { self.descriptor = descriptor }

    deinit { close(descriptor) }

    /// Takes the lock of `project` without waiting; `holder` (e.g. "pid 42 on host h, job j") is
    /// recorded for others. Throws `.projectLocked` naming the current holder when it is taken.
    /// Blocking (small file work): call it off the cooperative pool.
    public static func acquire(_ project: ProjectDirectory, holder: String) throws(EngineError) -> ProjectLock {
        let fd = openat(project.descriptor, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw ProjectDirectory.systemError("open the project folder to lock it") }
        guard pfs_lock_exclusive(fd) == 0 else {
            let code = errno
            close(fd)
            guard code == EWOULDBLOCK else {
                errno = code
                throw ProjectDirectory.systemError("lock the project")
            }
            throw EngineError(
                .projectLocked,
                "the project is being rendered by another job (\(currentHolder(project))); wait for it to finish or cancel it there")
        }
        let lock = ProjectLock(descriptor: fd)
        let line = "\(holder), since \(ISO8601DateFormatter().string(from: Date()))\n"
        do {
            try project.writeFile(holderFile, sync: false) { append in try append(Data(line.utf8)) }
        } catch let error as EngineError {
            throw error
        } catch {
            throw EngineError(.io, "cannot write \(holderFile): \(error)")
        }
        return lock
    }

    /// Who holds the lock, as its holder wrote it: read without trusting it (bounded, printable only).
    static func currentHolder(_ project: ProjectDirectory) -> String {
        let text: Data?
        do {
            text = try project.readFile(holderFile, limit: 64 * 1024, limitName: "the lock file limit")
        } catch {
            return "holder unknown: \(error.message)"
        }
        guard let text, !text.isEmpty else { return "holder unknown: \(holderFile) is empty" }
        let printable = text.prefix(holderBytes).map { byte -> Character in
            (0x20...0x7E).contains(byte) ? Character(UnicodeScalar(byte)) : " "
        }
        return "held by " + String(printable).trimmingCharacters(in: .whitespaces) + " per \(holderFile)"
    }
}
