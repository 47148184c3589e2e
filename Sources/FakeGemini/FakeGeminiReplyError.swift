/// A 400 INVALID_ARGUMENT the parser wants answered.
struct FakeGeminiReplyError: Error, Sendable {
    var message: String
    var field: String?
    init(_ message: String, field: String? = nil) {
        self.message = message
        self.field = field
    }
}
