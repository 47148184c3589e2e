import NIOCore

/// Counts the bytes a connection sends before they are parsed; past `limit` it drops the rest and
/// tells the handler after the HTTP decoder (``RequestTooLarge``), which answers 431 and closes.
final class RequestSizeLimiter: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    /// The user event sent on once the limit is passed.
    struct RequestTooLarge: Sendable {}

    private let limit: Int
    private var received = 0
    private var refused = false

    init(limit: Int) { self.limit = limit }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !refused else { return }
        received += Self.unwrapInboundIn(data).readableBytes
        if received > limit {
            refused = true
            context.fireUserInboundEventTriggered(RequestTooLarge())
        } else {
            context.fireChannelRead(data)
        }
    }
}
