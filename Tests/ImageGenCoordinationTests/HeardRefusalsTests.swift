import Foundation
@testable import ImageGenCoordination
import ImageGenEngine
import ImageGenMetrics
import Prometheus
import ImageGenTestSupport
import Testing

/// A 429 cool-down or a spent daily quota one server records is heard by the others at once
/// (`pg_notify`), so that a start they reserved ahead is withdrawn when it comes due; so is
/// every reserved start while the database is lost.
@Suite(.timeLimit(.minutes(1)), .hangWatchdog)
struct HeardRefusalsTests {
    static let model = "gemini-3.1-flash-image"

    /// Over a real database: what the second server hears of the first's refusals, for the
    /// quota refused only, for as long as they last; then, with the database stopped, that
    /// nothing may start.
    @Test func aRefusalOneServerRecordsWithdrawsTheOthersReservedStarts() async throws {
        try await CoordinationRig.with(databases: 2) { rig in
            let (first, second) = (rig.coordinators[0], rig.coordinators[1])
            let cooled = QuotaID(project: "film-heard", model: Self.model)
            let quiet = QuotaID(project: "film-quiet", model: Self.model)
            #expect(second.withdrawal(ofStartFor: cooled, askedAt: .now) == nil)
            // The second's LISTEN (sent as its coordinator was made) runs before a statement asked
            // after it on its connection, as on a server, whose grants all follow it.
            try await rig.databases[1].withConnection { try await $0.query("SELECT 1") }

            try await first.cool(cooled, for: .seconds(30))
            guard case .cooling(let left)? = try await Self.heard(by: second, of: cooled) else {
                Issue.record("the cool-down was not heard: \(String(describing: second.withdrawal(ofStartFor: cooled, askedAt: .now)))")
                return
            }
            #expect(left > .seconds(20) && left <= .seconds(30), "\(left)")
            #expect(second.withdrawal(ofStartFor: quiet, askedAt: .now) == nil, "a quota no one refused")
            #expect(second.withdrawal(ofStartFor: QuotaID(project: cooled.project, model: "gemini-3-pro-image"), askedAt: .now) == nil, "another model")

            // Heard as long as it lasts, and not after.
            let brief = QuotaID(project: "film-brief", model: Self.model)
            try await first.cool(brief, for: .milliseconds(400))
            #expect(try await Self.heard(by: second, of: brief) != nil)
            try await Task.sleep(for: .milliseconds(450))
            #expect(second.withdrawal(ofStartFor: brief, askedAt: .now) == nil, "a cool-down that ended still withdraws")

            let spentQuota = QuotaID(project: "film-spent", model: Self.model)
            let midnight = Date().addingTimeInterval(3_600)
            try await first.markDailyQuotaSpent(spentQuota, until: midnight, reason: "daily quota exhausted (GenerateRequestsPerDay)")
            guard case .dailyQuotaSpent(let until, let reason)? = try await Self.heard(by: second, of: spentQuota) else {
                Issue.record("the spent daily quota was not heard")
                return
            }
            #expect(abs(until.timeIntervalSince(midnight)) < 0.01 && reason == "daily quota exhausted (GenerateRequestsPerDay)")

            let beforeTheStop = ContinuousClock.now
            try await rig.cluster.stop()
            guard case .unavailable(let unavailable)? = try await Self.heard(by: second, of: quiet) else {
                Issue.record("a start reserved before the database stopped may still go")
                return
            }
            #expect(unavailable.reason.hasPrefix("the coordination database cannot be used"), "\(unavailable.reason)")

            // Back: a start asked for before the connection was made again is withdrawn (what was
            // notified meanwhile was not heard); one asked for on the new connection goes.
            try await rig.cluster.resume()
            try await CoordinationRig.waitUntilAvailable(rig.databases[1])
            let reconnected = second.withdrawal(ofStartFor: quiet, askedAt: beforeTheStop)
            guard case .unavailable(let again)? = reconnected else {
                Issue.record("a start asked for on the lost connection may go: \(String(describing: reconnected))")
                return
            }
            #expect(again.reason.contains("made again since the start was reserved"), "\(again.reason)")
            #expect(second.withdrawal(ofStartFor: quiet, askedAt: .now) == nil)

            // Each withdrawal was told to the second server's observer (its metrics), the first's told none.
            let told = rig.recorders[1].told.compactMap { entry -> String? in
                guard case .withdrew(let withdrawal) = entry else { return nil }
                return switch withdrawal {
                case .unavailable: "unavailable"
                case .cooling: "cooling"
                case .dailyQuotaSpent: "spent"
                }
            }
            #expect(Set(told) == ["cooling", "spent", "unavailable"] && told.first == "cooling", "\(told)")
            #expect(!rig.recorders[0].told.contains { if case .withdrew = $0 { true } else { false } })
        }
    }

    /// What `coordinator` withdraws a start of `quota` for, once it does (within 10 s).
    static func heard(by coordinator: PostgresQuotaCoordinator, of quota: QuotaID) async throws -> StartWithdrawal? {
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            if let withdrawal = coordinator.withdrawal(ofStartFor: quota, askedAt: .now) { return withdrawal }
            try await Task.sleep(for: .milliseconds(5))
        }
        return nil
    }

    /// Payloads that are not a refusal (another program's notification on the channel, a cool-down
    /// already over, a spent quota of the past) refuse nothing; a longer cool-down heard is kept
    /// against a shorter one heard after it; one of years is taken as an hour.
    @Test func onlyARefusalInForceWithdraws() {
        let heard = HeardRefusals()
        let quota = QuotaID(project: "film", model: Self.model)
        let now = ContinuousClock.now
        for payload in [
            "", "not json", "{}", #"{"project":"film","model":"gemini-3.1-flash-image","kind":"melting","remaining_us":5000000}"#,
            #"{"project":"film","model":"gemini-3.1-flash-image","kind":"cooling","remaining_us":-5}"#,
            #"{"project":"film","model":"gemini-3.1-flash-image","kind":"cooling"}"#,
            #"{"project":"film","model":"gemini-3.1-flash-image","kind":"spent","until":1000,"reason":"old"}"#,
            String(repeating: " ", count: 9_000),
        ] {
            heard.note(payload, now: now)
            #expect(heard.withdrawal(ofStartFor: quota, now: now) == nil, "\(payload.prefix(80))")
        }
        heard.note(#"{"project":"film","model":"gemini-3.1-flash-image","kind":"cooling","remaining_us":5000000}"#, now: now)
        heard.note(#"{"project":"film","model":"gemini-3.1-flash-image","kind":"cooling","remaining_us":1000000}"#, now: now)
        #expect(heard.withdrawal(ofStartFor: quota, now: now + .seconds(2)) == .cooling(.seconds(3)))
        #expect(heard.withdrawal(ofStartFor: quota, now: now + .seconds(5)) == nil)

        heard.note(#"{"project":"film","model":"gemini-3.1-flash-image","kind":"cooling","remaining_us":99999999999999}"#, now: now)
        #expect(heard.withdrawal(ofStartFor: quota, now: now) == .cooling(HeardRefusals.longestCoolDown))
    }

    /// The server's metrics count withdrawn starts by reason.
    @Test func theMetricsCountWithdrawnStartsByReason() {
        let metrics = ServerMetrics(styles: [])
        metrics.withdrew(.cooling(.seconds(2)))
        metrics.withdrew(.cooling(.seconds(1)))
        metrics.withdrew(.unavailable(CoordinationUnavailable(reason: "the coordination database cannot be used: test")))
        metrics.withdrew(.dailyQuotaSpent(until: Date().addingTimeInterval(60), reason: "spent"))
        let text = String(decoding: metrics.registry.emitToBuffer(), as: UTF8.self)
        for line in [
            #"imagegen_coordination_withdrawn_starts_total{reason="cooling"} 2"#,
            #"imagegen_coordination_withdrawn_starts_total{reason="unavailable"} 1"#,
            #"imagegen_coordination_withdrawn_starts_total{reason="spent"} 1"#,
        ] {
            #expect(text.split(separator: "\n").contains { $0 == line }, "\(line) not in:\n\(text)")
        }
        #expect(!text.contains("cannot be used"), "a reason's text is not a label")
    }
}
