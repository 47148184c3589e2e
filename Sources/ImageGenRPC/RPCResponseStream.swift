public import ImageGenWire

/// The responses of a server-streaming call, decoded. Ends when the call ends OK; throws
/// `RPCError` when it ends with any other status or the connection drops.
public struct RPCResponseStream<Response: WireMessage>: AsyncSequence, Sendable {
    public typealias Element = Response

    let messages: AsyncThrowingStream<[UInt8], any Error>
    let limits: DecodeLimits
    let method: String
    let localDeadline: ContinuousClock.Instant?
    let onLocalDeadline: @Sendable () -> Void

    public func makeAsyncIterator() -> Iterator {
        Iterator(base: messages.makeAsyncIterator(), stream: self)
    }

    /// Decodes each message as it arrives.
    public struct Iterator: AsyncIteratorProtocol {
        var base: AsyncThrowingStream<[UInt8], any Error>.AsyncIterator
        let stream: RPCResponseStream

        public mutating func next() async throws -> Response? {
            let bytes: [UInt8]?
            if let deadline = stream.localDeadline {
                bytes = try await nextBefore(deadline)
            } else {
                bytes = try await base.next()
            }
            guard let bytes else { return nil }
            do {
                return try Response(serializedBytes: bytes, limits: stream.limits)
            } catch let error as WireError {
                throw RPCError(.internalError, "\(stream.method): the response does not decode: \(error.message)", cause: error)
            }
        }

        /// Waits for the next message, but ends the call locally if the deadline passes first.
        private mutating func nextBefore(_ deadline: ContinuousClock.Instant) async throws -> [UInt8]? {
            let onDeadline = stream.onLocalDeadline
            return try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    try await Task.sleep(until: deadline, clock: .continuous)
                    onDeadline()
                }
                defer { group.cancelAll() }
                return try await base.next()
            }
        }
    }
}
