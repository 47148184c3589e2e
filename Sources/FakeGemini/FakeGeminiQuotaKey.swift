/// What a fake quota counts against: a project (from the key) and a model (from the path).
struct FakeGeminiQuotaKey: Hashable, Sendable {
    var project: String
    var model: String
}
