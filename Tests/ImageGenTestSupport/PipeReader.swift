public import Foundation
import Synchronization

/// Reads a child's pipe to its end with blocking `read(2)` on a thread of its own.
///
/// Not `FileHandle.readabilityHandler`: on Linux its libdispatch read source can be torn down while
/// the manager thread still drains its epoll note, and the whole test process dies with SIGSEGV in
/// `_dispatch_event_loop_drain` (swiftlang/swift-corelibs-libdispatch#949; seen here while servers
/// were started and stopped in a loop). A blocking read registers nothing with libdispatch, and its
/// end (EOF) tells exactly when everything the child wrote has been collected.
public final class PipeReader: Sendable {
    private let state = Mutex((bytes: [UInt8](), ended: false))

    /// Starts reading `handle` (the read end of a pipe) until EOF; `handle` is kept open until then.
    public init(_ handle: FileHandle) {
        let thread = Thread { [self] in
            let fd = handle.fileDescriptor
            var buffer = [UInt8](repeating: 0, count: 64 * 1024)
            while true {
                let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if count < 0 && errno == EINTR { continue }
                guard count > 0 else { break }
                state.withLock { $0.bytes += buffer[0..<count] }
            }
            state.withLock { $0.ended = true }
            withExtendedLifetime(handle) {}
        }
        thread.name = "imagegen-pipe-reader"
        thread.start()
    }

    /// What has been read so far, as UTF-8 (a character cut by a read is completed by the next).
    public var text: String { state.withLock { String(decoding: $0.bytes, as: UTF8.self) } }

    /// True once the writing side is closed and everything has been read.
    public var isAtEnd: Bool { state.withLock { $0.ended } }
}
