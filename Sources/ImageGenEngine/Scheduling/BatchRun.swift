/// One Batch API batch of a style as its loop tracks it: the ledger's entry, the plan indices of
/// its beats, the key it is read with, and what is being done with it now.
struct BatchRun: Sendable {
    /// What the loop waits for from the batch.
    enum Phase: Sendable, Equatable {
        /// Recorded in the ledger, the create call to be made (or in flight).
        case creating
        /// The create call's answer was lost: look for the batch by its display name.
        case finding
        /// Created as `name`; polled until it ends (`cancelRequested` once a cancel was sent).
        case polling(name: String, cancelRequested: Bool)
    }

    /// One beat of the batch: its request's `metadata.key` and its plan index.
    struct Member: Sendable {
        let key: String
        let index: Int
    }

    var entry: BatchLedger.Entry
    /// The beats still to collect from it (an earlier run may have collected some), in request order.
    var members: [Member]
    var key: APIKey
    var phase: Phase
    /// The next poll's delay (doubling from the first up to the style's maximum).
    var pollDelay: Duration
    /// Failed calls in a row (create, list, poll, cancel), for the backoff and for giving up.
    var failures = 0
    /// After a failed call: wait this long before the next.
    var retryDelay: Duration?
    /// Whether its requests are counted in this job's spend (a batch of an earlier run's was counted there).
    var counted = false
    /// What the last answer said of it (no results).
    var state: BatchState = .pending
    var stats = BatchStats()
    /// Whether a step of it (a child task) is running.
    var busy = false

    var displayName: String { entry.displayName }

    /// A call of it succeeded: no more backoff.
    mutating func answered() {
        failures = 0
        retryDelay = nil
    }

    /// The batch name once known.
    var name: String? {
        if case .polling(let name, _) = phase { return name }
        return entry.name
    }
}
