import ImageGenEngine

/// The Batch API of a ``MeteredProvider``'s base, counted as its requests are: each result of a
/// finished batch once it is read (by outcome, billed at the batch price), each failed batch call
/// by its outcome. Answers as the provider it wraps.
struct MeteredBatchProvider: BatchProvider {
    let base: any BatchProvider
    let style: String
    let metrics: ServerMetrics
    let prices: PriceTable
    let imageSize: String?

    func createBatch(_ submission: BatchSubmission) async throws -> BatchSnapshot {
        try await counted(model: submission.model) { try await base.createBatch(submission) }
    }

    func batch(named name: String, key: APIKey, timeout: Duration) async throws -> BatchSnapshot? {
        let snapshot = try await counted(model: nil) { try await base.batch(named: name, key: key, timeout: timeout) }
        if let snapshot { record(snapshot) }
        return snapshot
    }

    func listBatches(key: APIKey, pageToken: String?, timeout: Duration) async throws -> BatchPage {
        try await counted(model: nil) { try await base.listBatches(key: key, pageToken: pageToken, timeout: timeout) }
    }

    func cancelBatch(named name: String, key: APIKey, timeout: Duration) async throws {
        try await counted(model: nil) { try await base.cancelBatch(named: name, key: key, timeout: timeout) }
    }

    func deleteBatch(named name: String, key: APIKey, timeout: Duration) async throws {
        try await counted(model: nil) { try await base.deleteBatch(named: name, key: key, timeout: timeout) }
    }

    /// Counts a failed batch call's 429 (the batch endpoints' own limits) and passes everything through.
    private func counted<T>(model: String?, _ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let failure as ProviderFailure {
            if case .rateLimited(let limit) = failure {
                metrics.recordRateLimit(style: style, model: (model ?? "batch") + " (Batch API)", perDay: limit.perDay)
            }
            throw failure
        }
    }

    /// Counts each result of a finished batch as an answered request, billed at the batch price.
    private func record(_ snapshot: BatchSnapshot) {
        guard snapshot.state.isTerminal else { return }
        let model = snapshot.model ?? "unknown"
        let price = prices.price(model: model, imageSize: imageSize, lane: .batch)
        for result in snapshot.results.values {
            switch result {
            case .success(let image):
                metrics.recordRequest(style: style, model: model, outcome: "image", status: 200)
                metrics.recordBilled(style: style, model: model, price: price)
                metrics.recordTokens(style: style, model: model, image.usage)
            case .failure(let failure):
                let (outcome, status) = MeteredProvider.classify(failure)
                metrics.recordRequest(style: style, model: model, outcome: outcome, status: status)
                if case .blocked = failure { metrics.recordBilled(style: style, model: model, price: price) }
                if case .noImage = failure { metrics.recordBilled(style: style, model: model, price: price) }
            }
        }
    }
}
