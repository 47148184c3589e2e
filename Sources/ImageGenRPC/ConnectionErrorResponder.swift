import ImageGenWire
import NIOCore

/// Sits after the ``FrameDecoder`` on a server connection: when the decoder reports an
/// ``RPCError`` (a bad frame, a frame too slow or too large, the budget spent), it tells the peer
/// with one `Frame{call_id: 0, status}`, then closes the connection. Later errors of the closing
/// connection are dropped; errors of other kinds pass on.
final class ConnectionErrorResponder: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = Frame
    typealias InboundOut = Frame
    typealias OutboundOut = OutboundFrames

    private var responded = false

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        context.fireChannelRead(data)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        switch error {
        case let error as RPCError:
            guard !responded else { return }
            responded = true
            let status = Frame(callID: 0, kind: .status(error.status))
            let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
            context.writeAndFlush(wrapOutboundOut(.frame(status))).whenComplete { _ in
                loopBound.value.close(promise: nil)
            }
        case ByteToMessageDecoderError.dataReceivedInErrorState where responded:
            break  // bytes that came after the error, while the connection closes
        default:
            context.fireErrorCaught(error)
        }
    }
}
