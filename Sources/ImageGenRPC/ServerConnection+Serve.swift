import NIOCore
import ImageGenWire

extension ServerConnection {
    /// Reads the client's frames until it is gone or the connection closes, running each admitted
    /// call as a child task, and closes the connection when it idles; returns when every call's
    /// handler has exited.
    func serve(_ inbound: NIOAsyncChannelInboundStream<Frame>) async {
        logger.debug("connection opened")
        await withDiscardingTaskGroup { calls in
            calls.addTask { await self.closeWhenIdle() }
            do {
                frames: for try await frame in inbound {
                    // Closed, by us (idle) or by the channel (a stalled peer, the peer gone): frames
                    // still buffered start nothing, as no answer could reach the peer. Thousands can
                    // be buffered (the decoder hands over all it read when the channel closes).
                    guard isOpen else { break frames }
                    switch await receive(frame) {
                    case .none: continue
                    case .start(let callID, let start):
                        calls.addTask { await self.runCall(callID: callID, start: start) }
                    case .close:
                        close()
                        break frames
                    }
                }
            } catch {
                logger.debug("connection read failed", metadata: ["error": "\(error)"])
            }
            // The peer is gone (or we closed): stop every call and the idle watch.
            calls.cancelAll()
        }
        logger.debug("connection closed")
    }

    /// Closes the connection when it has not authenticated in time, or has been idle too long.
    private func closeWhenIdle() async {
        while true {
            do {
                try await Task.sleep(until: nextCheck(now: .now), clock: .continuous)
            } catch {
                return
            }
            if let reason = closeReason(now: .now) {
                logger.info("closing connection: \(reason)")
                close()
                return
            }
        }
    }
}
