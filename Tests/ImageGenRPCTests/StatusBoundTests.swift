import ImageGenRPC
import ImageGenWire
import ImageGenTestSupport
import Testing

/// Every status leaves the server with a message of at most `RPCError.maxMessageBytes`, cut at a
/// UTF-8 boundary, whatever the handler threw; client text is escaped and shortened for logs.
@Suite("Status and log text bounds", .timeLimit(.minutes(1)), .hangWatchdog)
struct StatusBoundTests {
    static let fail = "test.Bounds/Fail"

    /// A handler that ends its call with ABORTED and `request.message` repeated `request.code` times.
    static func router() -> RPCRouter {
        var router = RPCRouter()
        router.registerUnary(fail, CallStatus.self) { request, _ -> CallStatus in
            throw RPCError(.aborted, String(repeating: request.message, count: Int(request.code)))
        }
        return router
    }

    @Test(
        "a status message is cut at a UTF-8 boundary to the bound, or sent whole when it fits",
        arguments: ["a", "é", "€", "🦊", "e\u{301}"], [1, 2_000, 2_730, 8_191, 8_192, 8_193, 100_000])
    func statusMessageBound(unit: String, count: Int) async throws {
        let original = String(repeating: unit, count: count)
        try await withServer(router: Self.router()) { _, port in
            try await withClient(port: port) { client in
                let error = await expectRPCError(.aborted) {
                    _ = try await client.unary(Self.fail, CallStatus(code: UInt32(count), message: unit), as: CallStatus.self)
                }
                let message = error?.message ?? ""
                if original.utf8.count <= RPCError.maxMessageBytes {
                    #expect(message == original)
                } else {
                    #expect(message.utf8.count <= RPCError.maxMessageBytes)
                    #expect(message.hasSuffix("…"))
                    let kept = String(message.dropLast())
                    #expect(original.hasPrefix(kept) || original.unicodeScalars.starts(with: kept.unicodeScalars))
                    // At most one scalar's bytes short of the bound, besides the ellipsis.
                    #expect(kept.utf8.count > RPCError.maxMessageBytes - 3 - 4)
                }
            }
        }
    }

    @Test("client text is quoted, escaped and shortened for logs", arguments: [
        ("imagegen.v1.Health/Check", "\"imagegen.v1.Health/Check\""),
        ("a\nforged: log line", "\"a\\u{a}forged: log line\""),
        ("quote \" and \\", "\"quote \\\" and \\\\\""),
        ("\u{1b}[31mred\u{202e}", "\"\\u{1b}[31mred\\u{202e}\""),
        (String(repeating: "x", count: 81), "\"" + String(repeating: "x", count: 80) + "…\" (81 bytes)"),
    ])
    func loggable(text: String, expected: String) {
        #expect(ClientText.loggable(text) == expected)
    }

    @Test("truncation never splits a character's bytes", arguments: 0...12)
    func truncation(maxBytes: Int) {
        let text = "a€🦊é€a"  // 1 + 3 + 4 + 2 + 3 + 1 = 14 bytes
        let cut = ClientText.truncated(text, maxBytes: maxBytes)
        #expect(cut.utf8.count <= maxBytes)
        #expect(String(validating: Array(cut.utf8), as: UTF8.self) != nil)
        if maxBytes >= 3 { #expect(cut.hasSuffix("…")) }
        #expect(text.hasPrefix(cut.hasSuffix("…") ? String(cut.dropLast()) : cut))
    }
}
