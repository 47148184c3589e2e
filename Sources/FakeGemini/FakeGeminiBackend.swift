import Foundation
import Synchronization

/// The fake's brain: keys, per-(project, model) pace limits, faults and the request log, behind one lock. Decides the
/// reply of every request; the HTTP handler only moves bytes.
final class FakeGeminiBackend: Sendable {
    private struct State {
        var scripted: [FakeGeminiScriptedFault]
        var promptAttempts: [String: Int] = [:]
        /// The rate limiter's state per (project, model).
        var quotas: [FakeGeminiQuotaKey: FakeGeminiQuotaState] = [:]
        /// Accepted requests per (project, model) on `day`.
        var daily: [FakeGeminiQuotaKey: Int] = [:]
        var day = ""
        var log: [FakeGeminiRequestLogEntry] = []
        var openConnections = 0
    }

    /// Gemini's inline request limit.
    static let maximumRequestBytes = 100 << 20

    static let perMinuteQuotaID = "GenerateRequestsPerMinutePerProjectPerModel-FreeTier"
    static let perDayQuotaID = "GenerateRequestsPerDayPerProjectPerModel-FreeTier"

    let configuration: FakeGeminiConfiguration
    private let state: Mutex<State>
    /// The Batch API's batches (locked before `state` when both are needed, never after).
    let batchBook: Mutex<FakeGeminiBatchBook>
    /// Where the fixed windows start.
    private let origin: ContinuousClock.Instant

    init(configuration: FakeGeminiConfiguration) {
        self.configuration = configuration
        origin = configuration.clock.now
        state = Mutex(State(scripted: configuration.faults))
        batchBook = Mutex(FakeGeminiBatchBook(faults: configuration.batchFaults))
    }

    // MARK: - Control

    func enqueue(_ faults: [FakeGeminiScriptedFault]) {
        state.withLock { $0.scripted.append(contentsOf: faults) }
    }

    func requestLog() -> [FakeGeminiRequestLogEntry] {
        state.withLock { $0.log }
    }

    func clearRequestLog() {
        state.withLock { $0.log.removeAll() }
    }

    func connectionOpened() { state.withLock { $0.openConnections += 1 } }
    func connectionClosed() { state.withLock { $0.openConnections -= 1 } }
    var openConnections: Int { state.withLock { $0.openConnections } }

    /// The delay before answering a generateContent request.
    func responseDelay() -> Duration {
        let jitter = configuration.jitter
        guard jitter > .zero else { return configuration.latency }
        let extra = Double.random(in: 0...1) * jitter.fakeSeconds
        return configuration.latency + .nanoseconds(Int64(extra * 1e9))
    }

    /// The label of a key in logs: never the key.
    static func label(_ key: String) -> String {
        key.count > 8 ? "…" + key.suffix(4) : "…****"
    }

    // MARK: - generateContent

    /// Decides the reply to `POST path` with this key and body, and logs it.
    func generate(path: String, key: String?, keySource: String, acceptEncoding: String?, body: Data) -> FakeGeminiReply {
        var entry = FakeGeminiRequestLogEntry(
            time: Date(), path: path, keyLabel: key.map(Self.label), keySource: keySource, project: nil,
            acceptEncoding: acceptEncoding, model: "",
            prompt: "", referenceCount: 0, referenceMimeTypes: [], aspectRatio: nil, imageSize: nil,
            responseModalities: [], kind: "", status: nil)
        let reply = decide(path: path, key: key, body: body, entry: &entry)
        entry.status = reply.status
        state.withLock { $0.log.append(entry) }
        return reply
    }

    private func decide(path: String, key: String?, body: Data, entry: inout FakeGeminiRequestLogEntry) -> FakeGeminiReply {
        let prefix = "/v1beta/models/"
        let suffix = ":generateContent"
        guard path.hasPrefix(prefix), path.hasSuffix(suffix), path.count > prefix.count + suffix.count else {
            entry.kind = "not_found"
            return FakeGeminiPayloads.notFound(path)
        }
        let rawModel = String(path.dropFirst(prefix.count).dropLast(suffix.count))
        let model = rawModel.removingPercentEncoding ?? rawModel
        entry.model = model

        guard let key, let project = authenticate(key, entry: &entry) else {
            return refusal(of: key)
        }
        guard body.count <= Self.maximumRequestBytes else {
            entry.kind = "bad_request"
            return FakeGeminiPayloads.invalidArgument("Request payload size exceeds the limit: \(Self.maximumRequestBytes) bytes.")
        }
        let parsed: FakeGeminiRequestParser.Parsed
        switch FakeGeminiRequestParser.parse(body) {
        case .failure(let error):
            entry.kind = "bad_request"
            return FakeGeminiPayloads.invalidArgument(error.message, field: error.field)
        case .success(let value):
            parsed = value
        }
        return answer(parsed, model: model, key: key, project: project, entry: &entry, online: true)
    }

    /// The project of a key the fake accepts (recorded in `entry`); nil otherwise (see ``refusal(of:)``).
    func authenticate(_ key: String?, entry: inout FakeGeminiRequestLogEntry) -> String? {
        guard let key, !key.isEmpty else {
            entry.kind = "missing_key"
            return nil
        }
        if configuration.forbiddenKeys.contains(key) {
            entry.kind = "forbidden"
            return nil
        }
        let project: String
        if let known = configuration.keys[key] {
            project = known
        } else if configuration.acceptAnyKey {
            project = "default"
        } else {
            entry.kind = "invalid_key"
            return nil
        }
        entry.project = project
        return project
    }

    /// The answer to a key ``authenticate(_:entry:)`` refused.
    func refusal(of key: String?) -> FakeGeminiReply {
        guard let key, !key.isEmpty else { return FakeGeminiPayloads.missingKey() }
        if configuration.forbiddenKeys.contains(key) { return FakeGeminiPayloads.forbidden() }
        return FakeGeminiPayloads.invalidKey()
    }

    /// The answer to one parsed request: a fault it asks for, an unknown model, a limit (online
    /// only: batch requests do not count against the online quota), or its image.
    func answer(
        _ parsed: FakeGeminiRequestParser.Parsed, model: String, key: String, project: String,
        entry: inout FakeGeminiRequestLogEntry, online: Bool
    ) -> FakeGeminiReply {
        entry.prompt = parsed.prompt
        entry.referenceCount = parsed.referenceMimeTypes.count
        entry.referenceMimeTypes = parsed.referenceMimeTypes
        entry.aspectRatio = parsed.aspectRatio
        entry.imageSize = parsed.imageSize
        entry.responseModalities = parsed.responseModalities
        if let fault = takeFault(key: key, prompt: parsed.prompt, scripted: online) {
            entry.kind = fault.rawValue
            return reply(for: fault, model: model, parsed: parsed)
        }
        if let models = configuration.models, !models.contains(model) {
            entry.kind = "model_not_found"
            return FakeGeminiPayloads.modelNotFound(model)
        }
        if online, let limited = admit(project: project, model: model) {
            entry.kind = limited.kind
            return limited.reply
        }
        let reply = FakeGeminiPayloads.image(prompt: parsed.prompt, references: parsed.referenceMimeTypes.count, model: model)
        entry.kind = reply.status == 200 ? "image" : "internal"
        return reply
    }

    /// Adds an entry to the request log.
    func log(_ entry: FakeGeminiRequestLogEntry) {
        state.withLock { $0.log.append(entry) }
    }

    /// The next scripted fault for this key (online requests only), else a fault the prompt asks for.
    private func takeFault(key: String, prompt: String, scripted: Bool) -> FakeGeminiFault? {
        let trigger = Self.promptTrigger(prompt)
        return state.withLock { state -> FakeGeminiFault? in
            if scripted, let index = state.scripted.firstIndex(where: { $0.key == nil || $0.key == key }) {
                return state.scripted.remove(at: index).fault
            }
            guard let (fault, limit) = trigger else { return nil }
            guard let limit else { return fault }
            let attempt = state.promptAttempts[prompt, default: 0] + 1
            state.promptAttempts[prompt] = attempt
            return attempt <= limit ? fault : nil
        }
    }

    /// `[[fault:NAME]]` → (fault, nil); `[[fault:NAME:N]]` → (fault, N).
    static func promptTrigger(_ prompt: String) -> (FakeGeminiFault, Int?)? {
        guard let start = prompt.range(of: "[[fault:"), let end = prompt.range(of: "]]", range: start.upperBound..<prompt.endIndex) else {
            return nil
        }
        let pieces = prompt[start.upperBound..<end.lowerBound].split(separator: ":", omittingEmptySubsequences: false)
        guard let name = pieces.first, let fault = FakeGeminiFault(rawValue: String(name)) else { return nil }
        if pieces.count >= 2, let count = Int(pieces[1]) { return (fault, count) }
        return (fault, nil)
    }

    /// Counts an accepted request against its (project, model)'s limits, or answers 429.
    private func admit(project: String, model: String) -> (kind: String, reply: FakeGeminiReply)? {
        let now = configuration.clock.now
        let today = Self.utcDay(Date())
        let quota = FakeGeminiQuotaKey(project: project, model: model)
        let limiter = configuration.effectiveLimiter
        return state.withLock { state -> (kind: String, reply: FakeGeminiReply)? in
            if state.day != today {
                state.day = today
                state.daily.removeAll()
            }
            if let perDay = configuration.requestsPerDay, state.daily[quota, default: 0] >= perDay {
                return (
                    "daily_quota",
                    FakeGeminiPayloads.rateLimited(retryDelay: nil, quotaID: Self.perDayQuotaID, model: model, limit: perDay)
                )
            }
            if let limiter {
                var quotaState = state.quotas[quota] ?? .initial(for: limiter, now: now)
                let refusal = quotaState.admit(limiter, now: now, origin: origin)
                state.quotas[quota] = quotaState
                if let delay = refusal {
                    return (
                        "rate_limited",
                        FakeGeminiPayloads.rateLimited(
                            retryDelay: delay, quotaID: Self.perMinuteQuotaID, model: model, limit: limiter.quotaValue)
                    )
                }
            }
            state.daily[quota, default: 0] += 1
            return nil
        }
    }

    private static func utcDay(_ date: Date) -> String {
        let days = Int(date.timeIntervalSince1970 / 86_400)
        return String(days)
    }

    private func reply(for fault: FakeGeminiFault, model: String, parsed: FakeGeminiRequestParser.Parsed) -> FakeGeminiReply {
        let prompt = parsed.prompt
        let references = parsed.referenceMimeTypes.count
        switch fault {
        case .rateLimit:
            return FakeGeminiPayloads.rateLimited(
                retryDelay: configuration.faultRetryDelay, quotaID: Self.perMinuteQuotaID, model: model,
                limit: configuration.effectiveLimiter?.quotaValue)
        case .rateLimitBare:
            return FakeGeminiPayloads.rateLimitedBare()
        case .dailyQuota:
            return FakeGeminiPayloads.rateLimited(
                retryDelay: nil, quotaID: Self.perDayQuotaID, model: model, limit: configuration.requestsPerDay ?? 100)
        case .invalidKey:
            return FakeGeminiPayloads.invalidKey()
        case .forbidden:
            return FakeGeminiPayloads.forbidden()
        case .serverError:
            return FakeGeminiPayloads.error(500, "INTERNAL", "An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting")
        case .unavailable:
            return FakeGeminiPayloads.error(503, "UNAVAILABLE", "The model is overloaded. Please try again later.")
        case .gatewayTimeout:
            return FakeGeminiPayloads.error(504, "DEADLINE_EXCEEDED", "Deadline expired before operation could complete.")
        case .drop:
            return .drop
        case .hang:
            return .hang
        case .safety:
            return FakeGeminiPayloads.jsonReply(200, [
                "promptFeedback": ["blockReason": "PROHIBITED_CONTENT"],
                "usageMetadata": FakeGeminiPayloads.usage(prompt: prompt, references: references),
                "modelVersion": model,
            ])
        case .imageSafety:
            return FakeGeminiPayloads.candidateReply(
                parts: nil, finishReason: "IMAGE_SAFETY",
                finishMessage: "Unable to show the generated image. The image was filtered out because it violated Google's Generative AI Prohibited Use policy.",
                prompt: prompt, references: references, model: model)
        case .textOnly:
            return FakeGeminiPayloads.candidateReply(
                parts: [["text": "I can describe the scene, but here is only text."]], finishReason: "STOP",
                prompt: prompt, references: references, model: model)
        case .noImage:
            return FakeGeminiPayloads.candidateReply(
                parts: nil, finishReason: "NO_IMAGE", finishMessage: "The model did not generate an image.",
                prompt: prompt, references: references, model: model)
        case .brokenBase64:
            let parts: [[String: Any]] = [["inlineData": ["mimeType": "image/png", "data": "iVBORw0KGgo!!!not*base64###"]]]
            return FakeGeminiPayloads.candidateReply(parts: parts, finishReason: "STOP", prompt: prompt, references: references, model: model)
        case .htmlError:
            let html = "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center></body></html>\n"
            return .http(status: 502, contentType: "text/html", body: Data(html.utf8))
        case .jpegAsPNG:
            return FakeGeminiPayloads.image(prompt: prompt, references: references, model: model, data: TinyImageEncoder.jpeg(), declaredMimeType: "image/png")
        case .modelNotFound:
            return FakeGeminiPayloads.modelNotFound(model)
        }
    }
}
