import ImageGenWire
import NIOCore
import Synchronization

/// The accepted connections that the serving loop has not taken yet.
///
/// NIO's async server bootstrap wraps each accepted channel in a `NIOAsyncChannel` on its event
/// loop and queues it for the loop that iterates the listener. A wrapped channel that nobody takes
/// (the loop stopped, was cancelled, or the listener closed while the channel was being activated)
/// would be deinited with its writer unfinished, and NIO traps ("Deinited NIOAsyncWriter without
/// calling finish()", apple/swift-nio#2637, #2813). So every wrapped channel is registered here when
/// it is made; the serving loop takes it out, and whatever is still here when the loop is over is
/// finished and closed. Once ``closeAll()`` ran, newly accepted channels are closed unwrapped.
final class AcceptedConnections: Sendable {
    typealias Connection = NIOAsyncChannel<Frame, OutboundFrames>

    /// The listener is closed: an accepted channel was refused before it was wrapped.
    struct Closed: Error {}

    private struct State {
        var pending: [ObjectIdentifier: Connection] = [:]
        var closed = false
    }

    private let state = Mutex(State())

    /// Wraps `channel` (on its event loop, in the child channel initializer) and registers it, in one
    /// step: a channel is either wrapped and registered, or refused and closed. Throws ``Closed``
    /// after ``closeAll()``.
    ///
    /// A refused channel is closed here: NIO neither registers nor closes a child channel whose
    /// initializer failed, so its socket would stay open, and a call its peer sent on it would
    /// wait forever.
    func wrap(_ channel: any Channel, _ makeConnection: (any Channel) throws -> Connection) throws -> Connection {
        do {
            return try state.withLock { state in
                guard !state.closed else { throw Closed() }
                let connection = try makeConnection(channel)
                state.pending[ObjectIdentifier(channel)] = connection
                return connection
            }
        } catch {
            channel.close(promise: nil)
            throw error
        }
    }

    /// Takes `connection` for serving; false if it is not registered (it must not be served then).
    func take(_ connection: Connection) -> Bool {
        state.withLock { $0.pending.removeValue(forKey: ObjectIdentifier(connection.channel)) != nil }
    }

    /// Refuses every later channel, and finishes and closes every one not taken.
    func closeAll() async {
        let left = state.withLock { state -> [Connection] in
            state.closed = true
            defer { state.pending = [:] }
            return Array(state.pending.values)
        }
        for connection in left {
            try? await connection.executeThenClose { _, _ in }
        }
    }
}
