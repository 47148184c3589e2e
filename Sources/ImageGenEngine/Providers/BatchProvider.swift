/// The part of a provider that speaks Gemini's Batch API: create a batch of inline requests, read
/// it back by name, list batches (to find one by its display name after a lost answer), cancel it
/// and delete it.
///
/// Every call throws ``ProviderFailure`` classified as online requests are (a 429 with its delay,
/// a rejected key, a transient failure — `outcomeUnknown` when a create may have happened), and
/// never puts the key in a message. Like ``ImageProvider``, it never blocks the cooperative pool.
public protocol BatchProvider: Sendable {
    /// Creates one batch (`models/{model}:batchGenerateContent`); its snapshot as Gemini answered.
    func createBatch(_ submission: BatchSubmission) async throws -> BatchSnapshot
    /// The batch called `name` (e.g. "batches/abc123") with, once it is done, its results;
    /// nil when Gemini does not know it (404).
    func batch(named name: String, key: APIKey, timeout: Duration) async throws -> BatchSnapshot?
    /// One page of the project's batches, newest first as Gemini lists them (results not included).
    func listBatches(key: APIKey, pageToken: String?, timeout: Duration) async throws -> BatchPage
    /// Asks Gemini to cancel the batch: requests not yet processed are not processed (nor billed).
    func cancelBatch(named name: String, key: APIKey, timeout: Duration) async throws
    /// Deletes the batch's record at Gemini (after its results were kept).
    func deleteBatch(named name: String, key: APIKey, timeout: Duration) async throws
}

extension ImageProvider {
    /// The provider itself when it speaks the Batch API, else nil (the offline renderer): such a
    /// style's beats go online whatever its delivery says. A wrapper forwards its base's.
    public var batchProvider: (any BatchProvider)? { self as? any BatchProvider }
}
