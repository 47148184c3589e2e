import FakeGemini
import Foundation
import ImageGenEngine
import ImageGenGemini
import ImageGenTestSupport
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The fake's three limiter shapes over real HTTP: admission exactly as the shape says (on a manual
/// clock), per-(project, model) accounting, and 429 bodies as Gemini writes them.
@Suite("FakeGemini limiters", .timeLimit(.minutes(2)), .hangWatchdog)
struct FakeGeminiLimiterTests {
    typealias Support = GeminiTestSupport

    /// What a 429's QuotaFailure and RetryInfo say.
    struct Refusal {
        var quotaID: String
        var model: String?
        var location: String?
        var quotaValue: String?
        var retryDelay: String?
    }

    /// A limiter with the number of requests it admits at once.
    struct Shape: Sendable, CustomTestStringConvertible {
        var limiter: FakeGeminiLimiter
        var atOnce: Int
        var testDescription: String { "\(limiter)" }
    }

    static let shapes = [
        Shape(limiter: .tokenBucket(burst: 1, perMinute: 60), atOnce: 1),
        Shape(limiter: .tokenBucket(burst: 3, perMinute: 60), atOnce: 3),
        Shape(limiter: .fixedWindow(requests: 5, window: .seconds(5)), atOnce: 5),
        Shape(limiter: .slidingWindow(requests: 5, window: .seconds(5)), atOnce: 5),
    ]

    static func withServer(
        _ limiter: FakeGeminiLimiter?, clock: FakeGeminiClock = .manual(),
        adjust: (inout FakeGeminiConfiguration) -> Void = { _ in },
        _ body: (String, FakeGeminiServer) async throws -> Void
    ) async throws {
        var configuration = Support.fakeConfiguration { $0.limiter = limiter; $0.clock = clock }
        adjust(&configuration)
        try await FakeGeminiServerTests.withServer(configuration, body)
    }

    /// POSTs one generateContent request; returns the status and the body.
    static func generate(
        _ base: String, secret: String = Support.secretA, model: String = Support.model, prompt: String = "frame"
    ) async throws -> (status: Int, body: Data) {
        var request = URLRequest(url: URL(string: base + "/v1beta/models/\(model):generateContent")!)
        request.httpMethod = "POST"
        request.setValue(secret, forHTTPHeaderField: "x-goog-api-key")
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.httpBody = Data(#"{"contents":[{"role":"user","parts":[{"text":"\#(prompt)"}]}]}"#.utf8)
        let (data, response) = try await URLSession.shared.data(for: request)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, data)
    }

    /// The QuotaFailure violation and RetryInfo of a 429 body.
    static func refusal(_ data: Data) throws -> Refusal {
        let root = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let error = try #require(root["error"] as? [String: Any])
        #expect(error["code"] as? Int == 429 && error["status"] as? String == "RESOURCE_EXHAUSTED")
        let details = try #require(error["details"] as? [[String: Any]])
        let quota = try #require(details.first { ($0["@type"] as? String)?.hasSuffix("google.rpc.QuotaFailure") == true })
        let violation = try #require((quota["violations"] as? [[String: Any]])?.first)
        let dimensions = violation["quotaDimensions"] as? [String: String]
        let retry = details.first { ($0["@type"] as? String)?.hasSuffix("google.rpc.RetryInfo") == true }
        return Refusal(
            quotaID: try #require(violation["quotaId"] as? String), model: dimensions?["model"], location: dimensions?["location"],
            quotaValue: violation["quotaValue"] as? String, retryDelay: retry?["retryDelay"] as? String)
    }

    /// "12.3s" → a Duration, exactly (nil unless it is a protobuf Duration in seconds).
    static func parseDelay(_ text: String) -> Duration? {
        guard text.hasSuffix("s") else { return nil }
        let pieces = text.dropLast().split(separator: ".", omittingEmptySubsequences: false)
        guard (1...2).contains(pieces.count), let seconds = Int64(pieces[0]), pieces[0].allSatisfy(\.isNumber) else { return nil }
        var nanoseconds: Int64 = 0
        if pieces.count == 2 {
            guard (1...9).contains(pieces[1].count), pieces[1].allSatisfy(\.isNumber),
                let fraction = Int64(pieces[1] + String(repeating: "0", count: 9 - pieces[1].count))
            else { return nil }
            nanoseconds = fraction
        }
        return .seconds(seconds) + .nanoseconds(nanoseconds)
    }

    // MARK: - Admission

    /// On a clock standing still, one after another or all at once.
    @Test(arguments: shapes, [false, true])
    func aBurstAdmitsExactlyTheLimit(shape: Shape, concurrently: Bool) async throws {
        try await Self.withServer(shape.limiter) { base, server in
            let count = shape.atOnce + 3
            var statuses: [Int] = []
            if concurrently {
                statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                    for index in 0..<count { group.addTask { try await Self.generate(base, prompt: "burst \(index)").status } }
                    return try await group.reduce(into: []) { $0.append($1) }
                }
            } else {
                for index in 0..<count { statuses.append(try await Self.generate(base, prompt: "burst \(index)").status) }
            }
            let expected = Array(repeating: 200, count: shape.atOnce) + [429, 429, 429]
            #expect(concurrently ? statuses.sorted() == expected : statuses == expected)
            let kinds = server.requestLog().map(\.kind)
            #expect(kinds.filter { $0 == "image" }.count == shape.atOnce && kinds.filter { $0 == "rate_limited" }.count == 3)
        }
    }

    /// Requests at fixed offsets (ms) on a manual clock, and whether each is admitted ("A") or refused ("R").
    static let schedules: [(String, FakeGeminiLimiter, [(Int, Character)])] = [
        // 3 per second, any second: a refused request does not count.
        ("sliding", .slidingWindow(requests: 3, window: .seconds(1)),
         [(500, "A"), (600, "A"), (700, "A"), (1_000, "R"), (1_100, "R"), (1_499, "R"), (1_500, "A"), (1_600, "A"), (1_650, "R"), (1_700, "A")]),
        // 3 per second, windows [0, 1), [1, 2): a new window admits at once.
        ("fixed", .fixedWindow(requests: 3, window: .seconds(1)),
         [(500, "A"), (600, "A"), (700, "A"), (999, "R"), (1_000, "A"), (1_100, "A"), (1_200, "A"), (1_300, "R"), (2_500, "A"), (2_600, "A"),
          (2_700, "A"), (2_999, "R"), (3_000, "A")]),
        // 1 per second, holding 2: two at once, then one a second; an idle spell refills 2, not more.
        ("bucket", .tokenBucket(burst: 2, perMinute: 60),
         [(0, "A"), (0, "A"), (500, "R"), (1_000, "A"), (1_500, "R"), (2_000, "A"), (5_000, "A"), (5_000, "A"), (5_000, "R"), (5_999, "R"), (6_000, "A")]),
        // Strict spacing: every 500 ms and no sooner.
        ("spacing", .tokenBucket(burst: 1, perMinute: 120),
         [(0, "A"), (499, "R"), (500, "A"), (999, "R"), (1_000, "A"), (1_000, "R"), (1_700, "A"), (2_199, "R"), (2_200, "A")]),
    ]

    @Test(arguments: schedules)
    func requestsAtAControlledPaceAreAdmittedAsTheShapeSays(name: String, limiter: FakeGeminiLimiter, schedule: [(Int, Character)]) async throws {
        let clock = FakeGeminiClock.manual()
        try await Self.withServer(limiter, clock: clock) { base, _ in
            var elapsed = 0
            var seen = ""
            for (offset, _) in schedule {
                clock.advance(by: .milliseconds(offset - elapsed))
                elapsed = offset
                seen.append(try await Self.generate(base, prompt: "at \(offset)").status == 200 ? "A" : "R")
            }
            #expect(seen == String(schedule.map(\.1)), "\(name)")
        }
    }

    // MARK: - Per (project, model)

    @Test(arguments: shapes)
    func eachProjectAndModelHasItsOwnQuota(shape: Shape) async throws {
        try await Self.withServer(shape.limiter) { base, server in
            let quotas = [(Support.secretA, "model-x"), (Support.secretA, "model-y"), (Support.secretB, "model-x")]
            for (secret, model) in quotas {
                for index in 0...shape.atOnce {
                    _ = try await Self.generate(base, secret: secret, model: model, prompt: "\(model) \(index)")
                }
            }
            let log = server.requestLog()
            for (project, model) in [("project-a", "model-x"), ("project-a", "model-y"), ("project-b", "model-x")] {
                let mine = log.filter { $0.project == project && $0.model == model }
                #expect(mine.map(\.kind) == Array(repeating: "image", count: shape.atOnce) + ["rate_limited"], "\(project)/\(model)")
            }
        }
    }

    @Test func aDailyQuotaIsPerProjectAndModel() async throws {
        try await Self.withServer(nil, adjust: { $0.requestsPerDay = 2 }) { base, _ in
            for index in 0..<2 { #expect(try await Self.generate(base, model: "model-x", prompt: "day \(index)").status == 200) }
            let (status, body) = try await Self.generate(base, model: "model-x", prompt: "day 2")
            #expect(status == 429)
            let refusal = try Self.refusal(body)
            #expect(refusal.quotaID == "GenerateRequestsPerDayPerProjectPerModel-FreeTier")
            #expect(refusal.quotaValue == "2" && refusal.model == "model-x" && refusal.retryDelay == nil)
            #expect(try await Self.generate(base, model: "model-y", prompt: "other model").status == 200)
            #expect(try await Self.generate(base, secret: Support.secretB, model: "model-x", prompt: "other project").status == 200)
        }
    }

    // MARK: - The 429 body

    @Test(arguments: shapes)
    func aRefusalSaysTheLimitTheModelAndTheExactDelay(shape: Shape) async throws {
        let clock = FakeGeminiClock.manual()
        try await Self.withServer(shape.limiter, clock: clock) { base, _ in
            let model = "gemini-3-pro-image"
            for index in 0..<shape.atOnce { _ = try await Self.generate(base, model: model, prompt: "fill \(index)") }
            clock.advance(by: .milliseconds(250))
            let (status, body) = try await Self.generate(base, model: model, prompt: "refused")
            #expect(status == 429)
            let refusal = try Self.refusal(body)
            #expect(refusal.quotaID == "GenerateRequestsPerMinutePerProjectPerModel-FreeTier")
            #expect(refusal.model == model && refusal.location == "global")
            let expected: (value: String, delay: Duration)
            switch shape.limiter {
            case .tokenBucket: expected = ("60", .milliseconds(750))
            // 5 per 5 s is stated at its per-minute rate, under the per-minute quotaId.
            case .fixedWindow, .slidingWindow: expected = ("60", .milliseconds(4_750))
            }
            #expect(refusal.quotaValue == expected.value)
            let text = try #require(refusal.retryDelay)
            let delay = try #require(Self.parseDelay(text), "retryDelay \(text) is not a protobuf Duration")
            #expect(delay == expected.delay, "retryDelay \(text)")
            // Honest to the nanosecond: refused just before it, admitted at it.
            clock.advance(by: delay - .nanoseconds(1))
            #expect(try await Self.generate(base, model: model, prompt: "early").status == 429)
            clock.advance(by: .nanoseconds(1))
            #expect(try await Self.generate(base, model: model, prompt: "on time").status == 200)
        }
    }

    /// Each refuses a second request within 3 s, however slow the machine.
    @Test(arguments: [
        FakeGeminiLimiter.tokenBucket(burst: 1, perMinute: 20), .fixedWindow(requests: 2, window: .seconds(3)),
        .slidingWindow(requests: 2, window: .seconds(3)),
    ])
    func onTheRealClockARequestSentAfterTheDelayIsAdmittedAndTheProviderReadsIt(limiter: FakeGeminiLimiter) async throws {
        let configuration = Support.fakeConfiguration { $0.limiter = limiter }
        try await Support.withFake(configuration) { server, provider in
            var failure: ProviderFailure?
            var sent = 0
            while failure == nil, sent < 8 {
                failure = await Support.failure(of: provider, Support.request("real \(sent)"))
                sent += 1
            }
            guard case .rateLimited(let limit)? = failure, let retryAfter = limit.retryAfter, limit.window == .minute else {
                Issue.record("expected a per-minute 429 with a delay, got \(String(describing: failure))")
                return
            }
            let message = limit.message
            #expect(message.contains("exceeded your current quota"))
            #expect(retryAfter > .zero && retryAfter <= .seconds(3))
            try await Task.sleep(for: retryAfter)
            #expect(await Support.failure(of: provider, Support.request("after the delay")) == nil)
            #expect(server.requestLog().last?.kind == "image")
        }
    }
}
