import CImageGenSystem

/// What a server does to its own process before it reads secrets into memory: it makes itself not
/// dumpable, so no core file holds its keys or token and no other process of the same user can
/// read its memory or environment through /proc.
enum ProcessHardening {
    /// The process could not be made non-dumpable.
    struct Failure: Error, CustomStringConvertible {
        var errno: Int32
        var description: String { "cannot make the server process non-dumpable (prctl PR_SET_DUMPABLE: errno \(errno))" }
    }

    /// Marks the process not dumpable (Linux); throws if the kernel refuses.
    static func apply() throws(Failure) {
        let result = imagegen_set_not_dumpable()
        if result != 0 { throw Failure(errno: result) }
    }
}
