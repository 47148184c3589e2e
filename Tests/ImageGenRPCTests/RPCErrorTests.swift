@testable import ImageGenRPC
import Glibc
import ImageGenInterop
import ImageGenWire
import NIOCore
import NIOPosix
import ImageGenTestSupport
import Testing

/// `RPCError`: OK is not an error, the cause is kept beside the message, and nothing but code
/// and message reaches the wire.
@Suite("RPCError", .timeLimit(.minutes(1)), .hangWatchdog)
struct RPCErrorTests {
    struct Plain: Error, CustomStringConvertible {
        var description: String { "plain" }
    }

    @Test("a status's code is an error code for 1…16 and above; 0 (OK) has none", arguments: [0, 1, 2, 8, 16, 17, UInt32.max])
    func codes(raw: UInt32) {
        let code = RPCError.Code(rawValue: raw)
        #expect((code == nil) == (raw == 0))
        #expect(code.map(\.rawValue) == (raw == 0 ? nil : raw))
        let error = RPCError(status: CallStatus(code: raw, message: "m"))
        #expect(error?.status == (raw == 0 ? nil : CallStatus(code: raw, message: "m")))
    }

    @Test("a handler's error keeps its cause; equality looks at code and message only")
    func causeKept() {
        let mapped = RPCError(mapping: Plain())
        #expect(mapped.code == .unknown && mapped.message == "plain")
        #expect(mapped.cause is Plain)
        #expect(mapped == RPCError(.unknown, "plain"))
        #expect(mapped.description == "UNKNOWN: plain")
        #expect(RPCError(mapping: CancellationError()).cause is CancellationError)
        let wrapped = RPCError(.unavailable, "outer", cause: mapped)
        #expect((wrapped.cause as? RPCError)?.cause is Plain)
    }

    @Test("a connection that cannot be made is UNAVAILABLE with the socket error as its cause")
    func connectCause() async throws {
        // A port bound but not listening, held for the test (a port closed again could be taken
        // by another test's listener before the connect): the connect is refused.
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        try #require(fd >= 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        try #require(bound)
        let port = Int(UInt16(bigEndian: address.sin_port))
        let error = await expectRPCError(.unavailable) { _ = try await RPCClient.connect(host: "127.0.0.1", port: port) }
        let cause = try #require(error?.cause)
        #expect(!(cause is RPCError))
        #expect(error?.message.hasPrefix("cannot connect to 127.0.0.1:\(port): ") == true)
    }

    @Test("a response that does not decode is INTERNAL with the decode error as its cause")
    func decodeCause() async throws {
        try await withServer { _, port in
            try await withClient(port: port) { client in
                // Echo answers a CallStatus, whose field 1 is a number; HealthCheckRequest's is a string.
                let error = await expectRPCError(.internalError) {
                    _ = try await client.unary(TestService.echo, CallStatus(code: 1, message: "x"), as: HealthCheckRequest.self)
                }
                #expect(error?.cause is WireError, "\(String(describing: error?.cause))")
            }
        }
    }
}
