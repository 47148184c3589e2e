public import Foundation

/// A tmpfs of a few KiB mounted for one test (as root), to make writes fail with ENOSPC for real.
/// `unmount()` (or the end of the test's process) takes it away.
public final class SmallFileSystem: Sendable {
    /// Where it is mounted.
    public let url: URL

    /// Whether this process may mount a tmpfs (root, and no container policy forbids it).
    public static let isAvailable: Bool = {
        guard getuid() == 0 else { return false }
        guard let probe = try? SmallFileSystem(bytes: 64 * 1024) else { return false }
        probe.unmount()
        return true
    }()

    /// Mounts a tmpfs of `bytes` (rounded up to pages by the kernel) on a fresh temporary folder.
    public init(bytes: Int) throws {
        Self.removeOrphans()
        url = FileManager.default.temporaryDirectory.appendingPathComponent("imagegen-smallfs-\(getpid())-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        guard Self.run("/bin/mount", ["-t", "tmpfs", "-o", "size=\(bytes),mode=0755", "tmpfs", url.path]) else {
            try? FileManager.default.removeItem(at: url)
            throw CocoaError(.fileWriteNoPermission)
        }
    }

    /// Writes a filler file of zeros until the file system is full; returns its bytes.
    @discardableResult
    public func fill(name: String = "filler") -> Int {
        let fd = open(url.appendingPathComponent(name).path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return 0 }
        defer { close(fd) }
        let chunk = [UInt8](repeating: 0, count: 4096)
        var total = 0
        while true {
            let written = chunk.withUnsafeBytes { write(fd, $0.baseAddress!, $0.count) }
            if written <= 0 { break }
            total += written
        }
        return total
    }

    /// Deletes the filler file, making its space free again.
    public func drain(name: String = "filler") {
        unlink(url.appendingPathComponent(name).path)
    }

    public func unmount() {
        _ = Self.run("/bin/umount", ["-l", url.path])
        try? FileManager.default.removeItem(at: url)
    }

    /// Bind-mounts `folder` at `target` (root only): a second path to the same device and inode.
    public static func bind(_ folder: URL, at target: URL) -> Bool {
        run("/bin/mount", ["--bind", folder.path, target.path])
    }

    /// Undoes ``bind(_:at:)``.
    public static func unbind(_ target: URL) {
        _ = run("/bin/umount", ["-l", target.path])
    }

    /// Unmounts the file systems of test processes that died before unmounting theirs (the
    /// folder names the pid that mounted it).
    static func removeOrphans() {
        let base = FileManager.default.temporaryDirectory
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: base.path) else { return }
        for name in names where name.hasPrefix("imagegen-smallfs-") {
            let parts = name.split(separator: "-")
            guard parts.count > 3, let pid = Int32(parts[2]), pid != getpid(), kill(pid, 0) != 0, errno == ESRCH else { continue }
            let folder = base.appendingPathComponent(name)
            _ = run("/bin/umount", ["-l", folder.path])
            try? FileManager.default.removeItem(at: folder)
        }
    }

    static func run(_ tool: String, _ arguments: [String]) -> Bool {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { return false }
        process.waitUntilExit()
        return process.terminationStatus == 0
    }
}
