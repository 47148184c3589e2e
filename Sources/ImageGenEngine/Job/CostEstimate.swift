/// What `imagegen estimate` prints for one style before anything is sent: the images a run would
/// generate (those resume would skip left out), what they cost online and in batches, and how
/// many batch waves the longest chain needs.
public struct CostEstimate: Sendable, Equatable {
    public var style: String
    public var model: String
    public var imageSize: String?
    /// Beats in the storyboard.
    public var total: Int
    /// Done and current: a run skips them.
    public var skipped: Int
    /// What a run would generate: `total - skipped - inBatch`.
    public var toGenerate: Int
    /// In batches an earlier run sent and nobody collected yet: a run collects them (already
    /// billed, or billed by the batch), never sends them again.
    public var inBatch: Int
    /// In US dollars; nil when the model and size have no price.
    public var onlineCostUSD: Double?
    public var batchCostUSD: Double?
    /// Batch waves: 1 + the longest run of `continue` beats chained to a beat still to generate.
    public var waves: Int
    /// The style's configured delivery.
    public var delivery: Delivery
    /// Why the estimate may be off (e.g. the style has no keys: it renders offline, free).
    public var note: String?

    public init(
        style: String, model: String, imageSize: String?, total: Int, skipped: Int, toGenerate: Int,
        onlineCostUSD: Double?, batchCostUSD: Double?, waves: Int, delivery: Delivery, note: String? = nil,
        inBatch: Int = 0
    ) {
        self.inBatch = inBatch
        self.style = style
        self.model = model
        self.imageSize = imageSize
        self.total = total
        self.skipped = skipped
        self.toGenerate = toGenerate
        self.onlineCostUSD = onlineCostUSD
        self.batchCostUSD = batchCostUSD
        self.waves = waves
        self.delivery = delivery
        self.note = note
    }
}
