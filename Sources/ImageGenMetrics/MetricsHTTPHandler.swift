import NIOCore
import NIOHTTP1

/// Answers one request per connection: `GET /metrics` (a query string is ignored) with the
/// exposition, anything else 404, an oversize request 431; then closes.
final class MetricsHTTPHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let scrape: @Sendable () -> [UInt8]
    private var head: HTTPRequestHead?
    private var answered = false

    init(scrape: @escaping @Sendable () -> [UInt8]) { self.scrape = scrape }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch Self.unwrapInboundIn(data) {
        case .head(let head): self.head = head
        case .body: break
        case .end:
            guard let head else { return }
            let path = head.uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            if head.method == .GET && path == "/metrics" {
                respond(context, .ok, contentType: "text/plain; version=0.0.4; charset=utf-8", body: scrape())
            } else {
                respond(context, .notFound, contentType: "text/plain; charset=utf-8", body: Array("only GET /metrics is served here\n".utf8))
            }
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is RequestSizeLimiter.RequestTooLarge {
            let text = "request over \(MetricsServer.maxRequestBytes) bytes refused\n"
            respond(context, .requestHeaderFieldsTooLarge, contentType: "text/plain; charset=utf-8", body: Array(text.utf8))
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    private func respond(_ context: ChannelHandlerContext, _ status: HTTPResponseStatus, contentType: String, body: [UInt8]) {
        guard !answered else { return }
        answered = true
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: contentType)
        headers.add(name: "Content-Length", value: String(body.count))
        headers.add(name: "Connection", value: "close")
        context.write(Self.wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
        context.write(Self.wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: body)))), promise: nil)
        let loopContext = NIOLoopBound(context, eventLoop: context.eventLoop)
        context.writeAndFlush(Self.wrapOutboundOut(.end(nil))).whenComplete { _ in
            loopContext.value.close(promise: nil)
        }
    }
}
