public import ImageGenEngine

/// A provider that counts each request of one style as its answer arrives: by outcome and HTTP
/// status, whether it may have been billed, its tokens and its estimated price; then answers as
/// the provider it wraps (errors and cancellation pass through unchanged).
public struct MeteredProvider: ImageProvider {
    let base: any ImageProvider
    let style: String
    let metrics: ServerMetrics
    let prices: PriceTable
    /// The style's image size, for pricing batch results (an online request carries its own).
    let imageSize: String?

    /// Wraps `base`, the provider of `style`; `prices` estimates what each billed answer cost.
    public init(_ base: any ImageProvider, style: String, metrics: ServerMetrics, prices: PriceTable, imageSize: String? = nil) {
        self.base = base
        self.style = style
        self.metrics = metrics
        self.prices = prices
        self.imageSize = imageSize
    }

    public var name: String { base.name }

    /// The base's Batch API, counted (``MeteredBatchProvider``); nil when the base has none.
    public var batchProvider: (any BatchProvider)? {
        base.batchProvider.map { MeteredBatchProvider(base: $0, style: style, metrics: metrics, prices: prices, imageSize: imageSize) }
    }

    public func generate(_ request: ImageRequest) async throws -> GeneratedImage {
        do {
            let image = try await base.generate(request)
            metrics.recordRequest(style: style, model: request.model, outcome: "image", status: 200)
            metrics.recordBilled(style: style, model: request.model, price: price(request))
            metrics.recordTokens(style: style, model: request.model, image.usage)
            return image
        } catch let failure as ProviderFailure {
            let (outcome, status) = Self.classify(failure)
            metrics.recordRequest(style: style, model: request.model, outcome: outcome, status: status)
            switch failure {
            case .rateLimited(let limit): metrics.recordRateLimit(style: style, model: request.model, perDay: limit.perDay)
            case .blocked, .noImage: metrics.recordBilled(style: style, model: request.model, price: price(request))
            case .transient(_, _, outcomeUnknown: true): metrics.recordUnknownOutcome(style: style, model: request.model)
            default: break
            }
            throw failure
        } catch {
            metrics.recordRequest(style: style, model: request.model, outcome: "error", status: nil)
            throw error
        }
    }

    private func price(_ request: ImageRequest) -> Double? {
        prices.price(model: request.model, imageSize: request.imageSize)
    }

    /// The outcome label and HTTP status (nil when none was received) of a failure.
    static func classify(_ failure: ProviderFailure) -> (String, Int?) {
        switch failure {
        case .rateLimited: ("rate_limited", 429)
        case .keyRejected(let status, _): ("key_rejected", status)
        case .badRequest: ("bad_request", 400)
        case .configuration(let status, _): ("configuration", status)
        case .transient(let status, _, let unknown): (unknown ? "transient_unknown_outcome" : "transient", status)
        case .blocked: ("blocked", 200)
        case .noImage: ("no_image", 200)
        case .cancelled: ("cancelled", nil)
        }
    }
}

extension ServerMetrics {
    /// Counts one provider request; `model` is the request's, the style's configured model.
    func recordRequest(style: String, model: String, outcome: String, status: Int?) {
        let code = status.flatMap { (100...599).contains($0) ? String($0) : nil } ?? "none"
        counter("provider", "requests", "Provider requests answered, by style, model, outcome and HTTP status (\"none\": no answer).",
                [("style", style), ("model", model), ("outcome", outcome), ("http_status", code)]).increment()
    }

    /// Counts one 429, by the quota window it named.
    func recordRateLimit(style: String, model: String, perDay: Bool) {
        counter("provider", "rate_limited", "Requests answered 429, by style, model and quota window (minute or day).",
                [("style", style), ("model", model), ("window", perDay ? "day" : "minute")]).increment()
    }

    /// Counts one answer that may have been billed (an image, a blocked or image-less answer) and
    /// adds its price to the spend, or counts it unpriced when its model and size have no price.
    func recordBilled(style: String, model: String, price: Double?) {
        let labels = [("style", style), ("model", model)]
        counter("engine", "billed_requests", "Requests that may have been billed (an image, a blocked or image-less answer), by style and model.", labels)
            .increment()
        if let price {
            counter("provider", "estimated_spend_usd", "Estimated spend in US dollars (each billed request at its configured price), by style and model.", labels)
                .increment(by: price)
        } else {
            counter("provider", "unpriced_billed_requests", "Billed requests whose model and image size have no configured price, by style and model.", labels)
                .increment()
        }
    }

    /// Counts one request sent and then lost (transient, outcome unknown): it may have been billed.
    func recordUnknownOutcome(style: String, model: String) {
        counter("engine", "unknown_outcome_requests", "Requests whose outcome is unknown (sent, then lost: may have been billed), by style and model.",
                [("style", style), ("model", model)]).increment()
    }

    /// Adds the tokens Gemini reported for one answer.
    func recordTokens(style: String, model: String, _ usage: TokenUsage) {
        let labels = [("style", style), ("model", model)]
        counter("engine", "prompt_tokens", "Prompt tokens Gemini reported, by style and model.", labels)
            .increment(by: Int64(max(0, usage.promptTokens)))
        counter("engine", "output_tokens", "Output tokens Gemini reported (what image output is billed by), by style and model.", labels)
            .increment(by: Int64(max(0, usage.outputTokens)))
    }
}
