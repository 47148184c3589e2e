/// One batch to create: inline requests of one model, sent on one key (so one Google Cloud
/// project), under a display name that finds it again when the create call's answer is lost.
public struct BatchSubmission: Sendable {
    /// One request of the batch and the key that names it in the results (`metadata.key`).
    public struct Entry: Sendable {
        /// Unique in the batch, e.g. "clear/1/1.2".
        public var key: String
        /// The request as it would be sent online (its own key and timeout are not used).
        public var request: ImageRequest

        public init(key: String, request: ImageRequest) {
            self.key = key
            self.request = request
        }
    }

    /// The model every entry is for.
    public var model: String
    /// Deterministic for the beats it holds (see ``BatchLedger``).
    public var displayName: String
    /// The key the batch is created with; any key of its project can read it back.
    public var key: APIKey
    public var entries: [Entry]
    /// The create call's time limit.
    public var timeout: Duration

    public init(model: String, displayName: String, key: APIKey, entries: [Entry], timeout: Duration = .seconds(120)) {
        self.model = model
        self.displayName = displayName
        self.key = key
        self.entries = entries
        self.timeout = timeout
    }
}
