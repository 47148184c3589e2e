extension StyleRunner {
    /// Per-beat counters for this job: what each of its attempts ended in.
    struct BeatCounters: Sendable, Equatable {
        var requests = 0
        var transientFailures = 0
        var unknownOutcomes = 0
        var rateLimited = 0
        var noImage = 0
        var wasted = 0
        var usage = TokenUsage()
        var lastError: String?
        /// Requests of this job that may have been billed (an image, a block, no image, an unknown outcome).
        var billed = 0
        /// Their estimated cost in US dollars.
        var costUSD = 0.0

        /// Counts one request that may have been billed at `price`.
        mutating func bill(_ price: Double) {
            billed += 1
            costUSD += price
        }

        /// Counts one failed attempt (not one the job's cancellation cut off: that is not counted).
        mutating func count(_ failure: ProviderFailure) {
            lastError = failure.description
            switch failure {
            case .rateLimited: rateLimited += 1
            case .transient(_, _, let outcomeUnknown):
                if outcomeUnknown { unknownOutcomes += 1 } else { transientFailures += 1 }
            case .blocked: wasted += 1
            case .noImage:
                wasted += 1
                noImage += 1
            case .cancelled: transientFailures += 1
            case .keyRejected, .badRequest, .configuration: break
            }
        }
    }
}

extension SpendCounters {
    /// Counts one request that may have been billed at `price`; `wasted` when it gave no image.
    mutating func bill(_ price: Double, wasted: Bool) {
        estimatedCostUSD += price
        if wasted { wastedCostUSD += price }
    }

    /// Counts one failed attempt in the style's spend.
    mutating func count(_ failure: ProviderFailure) {
        switch failure {
        case .rateLimited: rateLimited += 1
        case .transient(_, _, true): unknownOutcomeAttempts += 1
        case .blocked, .noImage: wastedAttempts += 1
        case .transient, .cancelled, .keyRejected, .badRequest, .configuration: break
        }
    }
}

extension TokenUsage {
    mutating func add(_ other: TokenUsage) {
        promptTokens += other.promptTokens
        outputTokens += other.outputTokens
        totalTokens += other.totalTokens
    }
}

extension ProviderFailure {
    /// Whether Gemini may have billed the request: it answered without an image, or the outcome is unknown.
    var mayBeBilled: Bool {
        switch self {
        case .blocked, .noImage, .transient(_, _, true): true
        case .transient, .rateLimited, .keyRejected, .badRequest, .configuration, .cancelled: false
        }
    }
}

extension BeatRecord {
    /// Records how the beat is (or was) asked for and what its requests of this job may have cost.
    mutating func spend(_ counters: StyleRunner.BeatCounters, lane: Delivery, batch: String? = nil) {
        self.lane = lane
        self.batch = batch
        billedRequests = counters.billed
        estimatedCostUSD = counters.costUSD
    }
}
