/// A fault queued for the next request, or for the next request made with one key.
public struct FakeGeminiScriptedFault: Sendable, Codable, Equatable {
    /// The fault to answer.
    public var fault: FakeGeminiFault
    /// Only a request with this key (the secret) consumes it; nil matches any key.
    public var key: String?

    /// A fault for the next request (with `key`: the next request made with that key).
    public init(_ fault: FakeGeminiFault, key: String? = nil) {
        self.fault = fault
        self.key = key
    }
}
