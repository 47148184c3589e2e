import Foundation
import ImageGenTestSupport
import Testing

@testable import ImageGenEngine

/// `RetryDecision` on its own: every provider failure class against the beat's counters at the
/// first try, under, at and past the class's limit, for today's defaults and a tighter policy.
@Suite("Retry decision", .timeLimit(.minutes(1)), .hangWatchdog)
struct RetryDecisionTests {
    /// One failure class: a sample failure and the budget it counts against (nil: it has none).
    struct FailureClass: Sendable, CustomTestStringConvertible {
        let name: String
        let failure: ProviderFailure
        let limit: (@Sendable (RetryPolicy) -> Int)?
        var testDescription: String { name }
    }

    static let classes: [FailureClass] = [
        FailureClass(
            name: "429 per minute", failure: .rateLimited(retryAfter: .seconds(7), perDay: false, message: "slow down"),
            limit: { $0.maxRateLimitedAttempts }),
        FailureClass(
            name: "429 per day", failure: .rateLimited(retryAfter: nil, perDay: true, message: "quota spent"),
            limit: { $0.maxRateLimitedAttempts }),
        FailureClass(name: "key rejected", failure: .keyRejected(status: 403, message: "no permission"), limit: nil),
        FailureClass(name: "bad request", failure: .badRequest(message: "prompt too long"), limit: nil),
        FailureClass(name: "configuration", failure: .configuration(status: 404, message: "unknown model"), limit: nil),
        FailureClass(
            name: "transient, not sent", failure: .transient(status: 503, message: "unavailable", outcomeUnknown: false),
            limit: { $0.maxAttempts }),
        FailureClass(
            name: "transient, outcome unknown", failure: .transient(status: nil, message: "timed out", outcomeUnknown: true),
            limit: { $0.maxUnknownOutcomeAttempts }),
        FailureClass(name: "blocked", failure: .blocked(reason: "SAFETY", message: "unsafe"), limit: nil),
        FailureClass(name: "no image", failure: .noImage(reason: "NO_IMAGE", message: "nothing drawn"), limit: { $0.maxNoImageAttempts }),
        FailureClass(name: "cancelled (not the job)", failure: .cancelled, limit: { $0.maxAttempts }),
    ]

    /// How many times the beat has met this failure, counting this one.
    enum Situation: String, CaseIterable, Sendable {
        case firstTry, oneBelowLimit, atLimit, pastLimit
        /// Every other class's budget is spent, this one met for the first time.
        case otherBudgetsSpent

        func occurrences(limit: Int?) -> Int {
            guard let limit else { return self == .firstTry || self == .otherBudgetsSpent ? 1 : 3 }
            switch self {
            case .firstTry, .otherBudgetsSpent: return 1
            case .oneBelowLimit: return max(limit - 1, 1)
            case .atLimit: return limit
            case .pastLimit: return limit + 3
            }
        }
    }

    static let policies: [RetryPolicy] = [
        RetryPolicy(),
        RetryPolicy(
            maxAttempts: 3, maxUnknownOutcomeAttempts: 4, maxRateLimitedAttempts: 6, maxNoImageAttempts: 3,
            baseDelay: .milliseconds(100), maxDelay: .milliseconds(300)),
    ]

    static let jitters: [Double] = [0, 0.5, 1]

    /// The counters after `occurrences` requests that all failed with `failure`.
    static func counters(meeting failure: ProviderFailure, times occurrences: Int, otherBudgetsSpent: Bool) -> StyleRunner.BeatCounters {
        var counters = StyleRunner.BeatCounters()
        if otherBudgetsSpent {
            counters.transientFailures = 100
            counters.unknownOutcomes = 100
            counters.rateLimited = 100
            counters.noImage = 100
            counters.requests = 400
            switch failure {
            case .rateLimited: counters.rateLimited = 0
            case .transient(_, _, true): counters.unknownOutcomes = 0
            case .transient, .cancelled: counters.transientFailures = 0
            case .noImage: counters.noImage = 0
            case .keyRejected, .badRequest, .configuration, .blocked: break
            }
        }
        for _ in 0..<occurrences {
            counters.requests += 1
            counters.count(failure)
        }
        return counters
    }

    /// `baseDelay` doubled per attempt, capped, half fixed and half scaled by `jitter`, in whole milliseconds.
    static func expectedBackoff(_ policy: RetryPolicy, attempt: Int, jitter: Double) -> Duration {
        let base = Double(policy.baseDelay / .milliseconds(1))
        let cap = Double(policy.maxDelay / .milliseconds(1))
        let full = min(cap, base * pow(2, Double(attempt - 1)))
        return .milliseconds(Int64((full / 2 + jitter * full / 2).rounded()))
    }

    @Test(arguments: classes, Situation.allCases)
    func decidesEveryFailureClass(failureClass: FailureClass, situation: Situation) {
        for policy in Self.policies {
            let limit = failureClass.limit?(policy)
            let occurrences = situation.occurrences(limit: limit)
            let counters = Self.counters(
                meeting: failureClass.failure, times: occurrences, otherBudgetsSpent: situation == .otherBudgetsSpent)
            let spent = limit.map { occurrences >= $0 } ?? false
            for jitter in Self.jitters {
                let decision = RetryDecision(
                    after: failureClass.failure, counters: counters, policy: policy, beat: "2.3", style: "clear",
                    jitter: jitter)
                let expected = Self.expected(
                    failureClass.failure, spent: spent, occurrences: occurrences, counters: counters, policy: policy,
                    jitter: jitter)
                #expect(decision == expected, "\(failureClass.name), \(situation), \(policy), jitter \(jitter)")
            }
        }
    }

    /// What the engine's documented rules say (CONFIGURATION.md, "What the engine does with it").
    static func expected(
        _ failure: ProviderFailure, spent: Bool, occurrences: Int, counters: StyleRunner.BeatCounters,
        policy: RetryPolicy, jitter: Double
    ) -> RetryDecision {
        switch failure {
        case .rateLimited(let limit):
            return spent ? .failBeat(reason: "beat 2.3: rate limited \(occurrences) times: \(limit.message)") : .retryNow
        case .keyRejected: return .retryNow
        case .badRequest(let message): return .failBeat(reason: "beat 2.3: request rejected: \(message)")
        case .configuration(let status, let message):
            return .failStyle(reason: "style clear: configuration error (HTTP \(status)): \(message)")
        case .transient(let status, let message, _):
            let text = "transient failure" + (status.map { " (HTTP \($0))" } ?? "") + ": \(message)"
            return spent
                ? .failBeat(reason: "beat 2.3: gave up after \(counters.requests) attempts: \(text)")
                : .retryAfter(
                    expectedBackoff(policy, attempt: counters.transientFailures + counters.unknownOutcomes, jitter: jitter))
        case .blocked(let reason, let message): return .failBeat(reason: "beat 2.3: blocked (\(reason)): \(message)")
        case .noImage(let reason, let message):
            return spent ? .failBeat(reason: "beat 2.3: no image (\(reason)): \(message)") : .retryNow
        case .cancelled: return spent ? .failBeat(reason: "beat 2.3: cancelled") : .requeue
        }
    }

    /// Transient failures back off on the attempts of both kinds together (not sent, and outcome unknown).
    @Test(arguments: [(0, 1), (1, 1), (2, 1), (1, 2), (3, 0)])
    func backoffCountsBothTransientKinds(known: Int, unknown: Int) {
        let policy = RetryPolicy(
            maxAttempts: 10, maxUnknownOutcomeAttempts: 10, baseDelay: .milliseconds(100), maxDelay: .seconds(100))
        var counters = StyleRunner.BeatCounters()
        for _ in 0..<known { counters.count(.transient(status: 500, message: "x", outcomeUnknown: false)) }
        for _ in 0..<unknown { counters.count(.transient(status: nil, message: "x", outcomeUnknown: true)) }
        let failure = ProviderFailure.transient(status: nil, message: "x", outcomeUnknown: unknown > 0)
        let decision = RetryDecision(after: failure, counters: counters, policy: policy, beat: "1", style: "s", jitter: 1)
        #expect(decision == .retryAfter(.milliseconds(100 << (known + unknown - 1))))
    }

    /// Each class is counted in its own budget (and in the style's spend) and in no other.
    @Test(arguments: classes)
    func countsEachFailureInItsOwnBudget(failureClass: FailureClass) {
        var counters = StyleRunner.BeatCounters()
        var spend = SpendCounters()
        counters.count(failureClass.failure)
        spend.count(failureClass.failure)
        let failure = failureClass.failure
        #expect(counters.lastError == failure.description)
        let isRateLimited = if case .rateLimited = failure { true } else { false }
        let isUnknown = if case .transient(_, _, true) = failure { true } else { false }
        let isKnownTransient = if case .transient(_, _, false) = failure { true } else { false }
        let isCancelled = failure == .cancelled
        let isNoImage = if case .noImage = failure { true } else { false }
        let isBlocked = if case .blocked = failure { true } else { false }
        #expect(counters.rateLimited == (isRateLimited ? 1 : 0))
        #expect(counters.unknownOutcomes == (isUnknown ? 1 : 0))
        #expect(counters.transientFailures == (isKnownTransient || isCancelled ? 1 : 0))
        #expect(counters.noImage == (isNoImage ? 1 : 0))
        #expect(counters.wasted == (isNoImage || isBlocked ? 1 : 0))
        #expect(counters.requests == 0, "dispatch counts requests, not the failure")
        #expect(spend.rateLimited == (isRateLimited ? 1 : 0))
        #expect(spend.unknownOutcomeAttempts == (isUnknown ? 1 : 0))
        #expect(spend.wastedAttempts == (isNoImage || isBlocked ? 1 : 0))
        #expect(spend.requests == 0 && spend.imagesReceived == 0)
    }

    @Test func defaultsAreTheDocumentedOnes() {
        let policy = RetryPolicy()
        #expect(policy.maxAttempts == 5)
        #expect(policy.maxUnknownOutcomeAttempts == 2)
        #expect(policy.maxRateLimitedAttempts == 50)
        #expect(policy.maxNoImageAttempts == 2)
        #expect(policy.baseDelay == .seconds(1))
        #expect(policy.maxDelay == .seconds(60))
    }

    @Test(arguments: [(#"{"retry":{"maxNoImageAttempts":4}}"#, 4, nil), (#"{"retry":{"maxNoImageAttempts":0}}"#, nil, "retry.maxNoImageAttempts: 0.0 must be more than 0"), (#"{"styles":{"clear":{"retry":{"maxNoImageAttempts":1}}}}"#, 1, nil), (#"{"retry":{"maxNoImageAttempts":"two"}}"#, nil, "retry.maxNoImageAttempts: must be a number")] as [(String, Int?, String?)])
    func loadsMaxNoImageAttempts(json: String, expected: Int?, problem: String?) throws {
        if let expected {
            let config = try EngineConfiguration.parse(json: Data(json.utf8))
            #expect(config.style(named: "clear")?.retry.maxNoImageAttempts == expected)
            #expect(config.style(named: "illustration")?.retry.maxNoImageAttempts == (json.contains("styles") ? 2 : expected))
        } else {
            let error = #expect(throws: EngineError.self) { try EngineConfiguration.parse(json: Data(json.utf8)) }
            #expect(error?.code == .invalidConfiguration)
            let text = error?.description ?? ""
            #expect(text.contains(problem ?? "?"), "\(text)")
        }
    }
}
