/// What a test reads of one batch the fake holds (never a key: only its label).
public struct FakeGeminiBatchRecord: Sendable, Equatable {
    /// "batches/…".
    public var name: String
    public var displayName: String
    public var model: String
    /// The project of the key that created it.
    public var project: String
    public var keyLabel: String
    /// `BATCH_STATE_*`.
    public var state: String
    /// Each request's `metadata.key`, in order.
    public var keys: [String]
    /// Each request's prompt, in order.
    public var prompts: [String]
    /// The requests processed (and so billed), in order.
    public var processedKeys: [String]
}
