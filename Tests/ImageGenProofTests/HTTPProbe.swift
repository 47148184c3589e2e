import Foundation

/// A raw HTTP/1.1 exchange over a loopback TCP socket, done on a thread of its own (the socket calls
/// block): sends the bytes as given, reads until the server closes, within a bound.
enum HTTPProbe {
    struct Response: Sendable {
        var status: Int
        var body: String
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Sends `request` to 127.0.0.1:`port` and parses the answer.
    static func exchange(port: Int, _ request: [UInt8]) async throws -> Response {
        let raw = try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<[UInt8], any Error>) in
            Thread.detachNewThread {
                continuation.resume(with: Result { try blockingExchange(port: port, request) })
            }
        }
        let text = String(decoding: raw, as: UTF8.self)
        guard let headEnd = text.range(of: "\r\n\r\n"), let statusText = text.split(separator: " ").dropFirst().first,
            let status = Int(statusText)
        else { throw Failure(description: "no HTTP response: \(text.prefix(200))") }
        return Response(status: status, body: String(text[headEnd.upperBound...]))
    }

    /// GETs `path`.
    static func get(port: Int, _ path: String, extraHeaders: String = "") async throws -> Response {
        try await exchange(port: port, Array("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n\(extraHeaders)\r\n".utf8))
    }

    /// Scrapes /metrics and parses it; throws unless the answer is 200.
    static func scrape(port: Int) async throws -> Exposition {
        let response = try await get(port: port, "/metrics")
        guard response.status == 200 else { throw Failure(description: "GET /metrics answered \(response.status)") }
        return Exposition(response.body)
    }

    private static func blockingExchange(port: Int, _ request: [UInt8]) throws -> [UInt8] {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket: errno \(errno)") }
        defer { close(fd) }
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw Failure(description: "connect to port \(port): errno \(errno)") }
        // The server may answer and close before all is sent (an oversize request): a failed send is fine.
        var sent = 0
        while sent < request.count {
            let n = request[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { break }
            sent += n
        }
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n > 0 { received += buffer[0..<n] } else if n == 0 || errno == ECONNRESET { break } else {
                throw Failure(description: "recv: errno \(errno) after \(received.count) bytes")
            }
            if received.count > 8 * 1024 * 1024 { throw Failure(description: "answer over 8 MiB") }
        }
        return received
    }
}
