public import ImageGenEngine

/// A provider that counts each request of one style by outcome and HTTP status, then answers as
/// the provider it wraps (errors and cancellation pass through unchanged).
public struct MeteredProvider: ImageProvider {
    let base: any ImageProvider
    let style: String
    let metrics: ServerMetrics

    /// Wraps `base`, the provider of `style`.
    public init(_ base: any ImageProvider, style: String, metrics: ServerMetrics) {
        self.base = base
        self.style = style
        self.metrics = metrics
    }

    public var name: String { base.name }

    public func generate(_ request: ImageRequest) async throws -> GeneratedImage {
        do {
            let image = try await base.generate(request)
            metrics.recordRequest(style: style, model: request.model, outcome: "image", status: 200)
            return image
        } catch let failure as ProviderFailure {
            let (outcome, status) = Self.classify(failure)
            metrics.recordRequest(style: style, model: request.model, outcome: outcome, status: status)
            if case .rateLimited(let limit) = failure {
                metrics.recordRateLimit(style: style, model: request.model, perDay: limit.perDay)
            }
            throw failure
        } catch {
            metrics.recordRequest(style: style, model: request.model, outcome: "error", status: nil)
            throw error
        }
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
}
