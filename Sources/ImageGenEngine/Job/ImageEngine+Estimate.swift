import Foundation

extension ImageEngine {
    /// What a job with `options` would generate in `project` and what it would cost, per style,
    /// online and in batches, before anything is sent. Reads the project's progress and images
    /// (through `directory`, no link followed) and writes nothing. Throws `.invalidOptions` for an
    /// unknown style, `.corruptProgress` for progress that cannot be read.
    public func estimate(storyboard: ValidatedStoryboard, directory: ProjectDirectory, options: JobOptions = JobOptions())
        async throws(EngineError) -> [CostEstimate]
    {
        let job = try makeJob(storyboard: storyboard, directory: directory, options: options)
        let prices = configuration.prices
        do {
            return try await BlockingIO(label: "imagegen.estimate").run {
                try job.runners.map { runner in try runner.estimate(prices: prices, delivery: options.delivery) }
            }
        } catch let error as EngineError {
            throw error
        } catch {
            throw EngineError(.io, "cannot estimate \(directory.url.path): \(error)")
        }
    }
}

extension StyleRunner {
    /// This style's ``CostEstimate``, from its progress as it is on disk. Blocking.
    func estimate(prices: PriceTable, delivery: Delivery?) throws -> CostEstimate {
        let records = try ProgressStore.loadRecords(directory: project, style: style.name)
        let plan = try makePlan(records: { records["\($0)/\($1)"] }, removingTemporaryFiles: false)
        let claimed = isOffline ? [] : Set(try BatchLedgerStore.load(directory: project, style: style.name).entries.flatMap(\.beats))
        var waves = Array(repeating: 0, count: plan.beats.count)
        var toGenerate = 0
        var inBatch = 0
        for (index, decision) in plan.decisions.enumerated() {
            guard case .generate = decision else { continue }
            // A beat in an earlier run's batch is collected; its dependents wait on it as on a wave.
            let before = plan.beats[index].predecessor.map { waves[$0] } ?? 0
            waves[index] = before + 1
            if claimed.contains(batchKey(plan.beats[index])) { inBatch += 1 } else { toGenerate += 1 }
        }
        // Priced as Gemini would charge even without keys (then the server renders offline, free).
        func cost(_ lane: Delivery) -> Double? {
            prices.price(model: style.model, imageSize: style.imageSize, lane: lane).map { $0 * Double(toGenerate) }
        }
        return CostEstimate(
            style: style.name, model: style.model, imageSize: style.imageSize, total: plan.beats.count,
            skipped: plan.beats.count - toGenerate - inBatch, toGenerate: toGenerate, onlineCostUSD: cost(.online),
            batchCostUSD: cost(.batch), waves: waves.max() ?? 0, delivery: delivery ?? style.delivery,
            note: isOffline ? "no keys configured: this server would render it offline, free; the costs are Gemini's" : nil, inBatch: inBatch)
    }
}
