import Foundation
import ImageGenPNG
import Logging
import NIOCore
import NIOHTTP1

/// One connection's HTTP/1.1 handler: collects a request, asks the backend, answers (after the
/// configured latency), drops the connection or hangs. Runs on its channel's event loop only.
final class FakeGeminiHTTPHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let backend: FakeGeminiBackend
    private let logger: Logger
    private var head: HTTPRequestHead?
    private var body = ByteBuffer()
    private var counted = false

    init(backend: FakeGeminiBackend, logger: Logger) {
        self.backend = backend
        self.logger = logger
    }

    func channelActive(context: ChannelHandlerContext) {
        backend.connectionOpened()
        counted = true
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        if counted { backend.connectionClosed() }
        counted = false
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch Self.unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            body.clear()
        case .body(var chunk):
            body.writeBuffer(&chunk)
        case .end:
            guard let head else { return }
            self.head = nil
            let bytes = Data(body.readableBytesView)
            body.clear()
            handle(context: context, head: head, body: bytes)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        logger.debug("fake gemini connection error", metadata: ["error": "\(error)"])
        context.close(promise: nil)
    }

    private func handle(context: ChannelHandlerContext, head: HTTPRequestHead, body: Data) {
        let (path, query) = Self.split(head.uri)
        if path.hasPrefix("/_fake/") {
            let reply = control(method: head.method, path: path, body: body)
            write(context: context, head: head, reply: reply)
            return
        }
        var key = head.headers.first(name: "x-goog-api-key")
        var source = key == nil ? "none" : "header"
        if key == nil, let queryKey = query["key"] {
            key = queryKey
            source = "query"
        }
        if let reply = backend.batchCall(method: head.method.rawValue, path: path, query: query, key: key, body: body) {
            logger.debug("fake gemini batch call", metadata: ["path": "\(path)", "status": "\(reply.status.map(String.init) ?? "-")"])
            write(context: context, head: head, reply: reply)
            return
        }
        guard head.method == .POST else {
            write(context: context, head: head, reply: FakeGeminiPayloads.notFound(path))
            return
        }
        let acceptEncoding = head.headers.first(name: "accept-encoding")
        let reply = backend.generate(path: path, key: key, keySource: source, acceptEncoding: acceptEncoding, body: body)
        let gzip =
            backend.configuration.gzipResponses
            && (acceptEncoding ?? "").split(separator: ",").contains { $0.trimmingCharacters(in: .whitespaces).hasPrefix("gzip") }
        let delay = backend.responseDelay()
        logger.debug("fake gemini request", metadata: ["path": "\(path)", "status": "\(reply.status.map(String.init) ?? "-")"])
        if delay > .zero {
            let nanos = delay.components.seconds * 1_000_000_000 + delay.components.attoseconds / 1_000_000_000
            let loop = context.eventLoop.assumeIsolated()
            loop.scheduleTask(in: .nanoseconds(nanos)) { [self] in
                self.write(context: context, head: head, reply: reply, gzip: gzip)
            }
        } else {
            write(context: context, head: head, reply: reply, gzip: gzip)
        }
    }

    private func control(method: HTTPMethod, path: String, body: Data) -> FakeGeminiReply {
        switch (method, path) {
        case (.GET, "/_fake/health"):
            return FakeGeminiPayloads.jsonReply(200, ["status": "ok"])
        case (.GET, "/_fake/log"):
            let encoder = JSONEncoder()
            encoder.dateEncodingStrategy = .iso8601
            encoder.outputFormatting = [.sortedKeys]
            let log = backend.requestLog()
            let data = (try? encoder.encode(FakeGeminiLogDocument(requests: log))) ?? Data("{}".utf8)
            return .http(status: 200, contentType: "application/json", body: data)
        case (.DELETE, "/_fake/log"):
            backend.clearRequestLog()
            return FakeGeminiPayloads.jsonReply(200, ["cleared": true])
        case (.POST, "/_fake/faults"):
            guard let faults = FakeGeminiLogDocument.parseFaults(body) else {
                return FakeGeminiPayloads.invalidArgument("expected {\"faults\":[\"NAME\" or {\"fault\":\"NAME\",\"key\":\"…\"}]}")
            }
            backend.enqueue(faults)
            return FakeGeminiPayloads.jsonReply(200, ["queued": faults.count])
        default:
            return FakeGeminiPayloads.notFound(path)
        }
    }

    private func write(context: ChannelHandlerContext, head: HTTPRequestHead, reply: FakeGeminiReply, gzip: Bool = false) {
        switch reply {
        case .drop:
            context.close(promise: nil)
        case .hang:
            break
        case .http(let status, let contentType, let plain):
            var headers = HTTPHeaders()
            headers.add(name: "Content-Type", value: contentType)
            var body = plain
            if gzip {
                do {
                    body = Data(try Zlib.compress([UInt8](plain), format: .gzip))
                } catch {
                    let message = "imagegen-fake-gemini could not gzip its answer: \(error.message)"
                    write(context: context, head: head, reply: FakeGeminiPayloads.error(500, "INTERNAL", message))
                    return
                }
                headers.add(name: "Content-Encoding", value: "gzip")
                headers.add(name: "Vary", value: "Accept-Encoding")
            }
            headers.add(name: "Content-Length", value: String(body.count))
            headers.add(name: "Server", value: "imagegen-fake-gemini")
            let keepAlive = head.isKeepAlive
            if !keepAlive { headers.add(name: "Connection", value: "close") }
            let responseHead = HTTPResponseHead(
                version: head.version, status: HTTPResponseStatus(statusCode: status), headers: headers)
            context.write(Self.wrapOutboundOut(.head(responseHead)), promise: nil)
            context.write(Self.wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: body)))), promise: nil)
            if keepAlive {
                context.writeAndFlush(Self.wrapOutboundOut(.end(nil)), promise: nil)
            } else {
                let loopContext = NIOLoopBound(context, eventLoop: context.eventLoop)
                context.writeAndFlush(Self.wrapOutboundOut(.end(nil))).whenComplete { _ in
                    loopContext.value.close(promise: nil)
                }
            }
        }
    }

    /// Splits a request target into its path and query items.
    static func split(_ uri: String) -> (String, [String: String]) {
        guard let mark = uri.firstIndex(of: "?") else { return (uri, [:]) }
        var query: [String: String] = [:]
        for item in uri[uri.index(after: mark)...].split(separator: "&") {
            let pair = item.split(separator: "=", maxSplits: 1)
            let name = String(pair[0])
            let value = pair.count > 1 ? String(pair[1]) : ""
            query[name] = value.removingPercentEncoding ?? value
        }
        return (String(uri[..<mark]), query)
    }
}
