import Foundation
import ImageGenEngine
import ImageGenTestSupport
import Testing

/// A start the coordinator reserved ahead and then withdraws when it comes due does not go: the
/// engine asks again after its retry pause (the coordinator lost its database), or adopts the
/// cool-down or spent daily quota another server met and defers the beat.
@Suite(.timeLimit(.minutes(1)), .hangWatchdog)
struct ReservedStartTests {
    static let beats = 3

    /// Runs a job of ``beats`` beats on one key, one request at a time, through `coordinator`.
    static func run(_ coordinator: WithdrawingCoordinator, subject: String) async throws -> (ScriptedProvider, JobSummary, [EngineEvent]) {
        let directory = TempDirectory("reserved-\(subject)")
        let provider = ScriptedProvider()
        let style = fastStyle("clear", keys: keys("clear", [("film", "AIzaReservedStartKey1")]), inFlight: 1)
        let engine = ImageEngine(
            configuration: fastConfiguration(styles: [style]), logger: testLogger, providerFactory: { _ in provider }, coordinator: coordinator)
        let job = try engine.makeJob(storyboard: try makeStoryboard(shots: 1, beats: beats, subject: subject), project: directory.url)
        let (summary, events) = await runJob(job)
        return (provider, summary, events)
    }

    /// Withdrawn for a lost database: no request at the withdrawn start; the start is asked for
    /// again after the retry pause (250 ms), the job says it is held and then that it is back,
    /// and every beat is generated once.
    @Test func aStartWithdrawnForALostDatabaseIsAskedForAgain() async throws {
        let coordinator = WithdrawingCoordinator(withdrawing: [.unavailable(CoordinationUnavailable(reason: "the coordination database cannot be used: test"))])
        let (provider, summary, events) = try await Self.run(coordinator, subject: "lost")
        #expect(summary.state == .completed && provider.recorded.count == Self.beats, "\(summary)")
        #expect(coordinator.grants.count == Self.beats + 1, "\(coordinator.grants.count) grants")
        let withdrawn = try #require(coordinator.checks.first)
        let first = try #require(provider.recorded.map(\.start).min())
        #expect(first - withdrawn >= .milliseconds(250), "a request went \(first - withdrawn) after its start was withdrawn")
        let texts = texts(of: events)
        #expect(texts.contains { $0.contains("no request starts until it answers again") }, "\(texts)")
        #expect(texts.contains { $0.hasPrefix("coordination is back after") }, "\(texts)")
    }

    /// Withdrawn for another server's 429: the cool-down is adopted (the key cools), no request
    /// starts before it ends, and every beat is generated once after it.
    @Test func aStartWithdrawnForACoolDownWaitsItOut() async throws {
        let coordinator = WithdrawingCoordinator(withdrawing: [.cooling(.milliseconds(600))])
        let (provider, summary, events) = try await Self.run(coordinator, subject: "cooled")
        #expect(summary.state == .completed && provider.recorded.count == Self.beats, "\(summary)")
        let withdrawn = try #require(coordinator.checks.first)
        for call in provider.recorded {
            #expect(call.start - withdrawn >= .milliseconds(590), "\(call.prompt) went \(call.start - withdrawn) after the withdrawal")
        }
        #expect(keyUpdates(events).contains { $0.state == .cooling }, "\(keyUpdates(events))")
    }

    /// Withdrawn for a daily quota another server found spent: it is adopted, and no request of
    /// the quota starts today; the job ends without hanging, its beats not generated.
    @Test func aStartWithdrawnForASpentDayStartsNothing() async throws {
        let reason = "daily quota exhausted (GenerateRequestsPerDay)"
        let coordinator = WithdrawingCoordinator(withdrawing: [.dailyQuotaSpent(until: Date().addingTimeInterval(3_600), reason: reason)])
        let (provider, summary, events) = try await Self.run(coordinator, subject: "spent")
        #expect(provider.recorded.isEmpty, "\(provider.recorded.map(\.prompt))")
        #expect(summary.state != .completed, "\(summary)")
        #expect(summary.styles.first?.done == 0, "\(summary)")
        print("reserved start: spent day: \(summary.state); \(texts(of: events).suffix(2))")
    }

    func texts(of events: [EngineEvent]) -> [String] {
        events.compactMap { event -> String? in
            if case .message(_, let text) = event { return text } else { return nil }
        }
    }
}
