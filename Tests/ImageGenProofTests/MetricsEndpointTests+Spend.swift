import FakeGemini
import Foundation
import ImageGenClient
import ImageGenRPC
import ImageGenTestSupport
import ImageGenWire
import Logging
import Testing

/// Spend, billed requests and pace gauges of the real server, scraped over HTTP mid-job (paused,
/// so no style has finished) and after the job.
extension MetricsEndpointTests {
    static let flash = "gemini-3.1-flash-image"
    static let pro = "gemini-3-pro-image"
    /// The price the test configures for a 2K flash image: a binary fraction, so sums are exact.
    static let price = 0.25

    /// The storyboard: a blocked beat, a no-image answer then an image, a dropped request (outcome
    /// unknown) then an image, and nine plain beats: 13 billed answers and one unknown per style.
    static let spendBeats: [ProofStoryboard.Beat] =
        [
            ("blocked", "[[fault:safety]] a harbour at dawn", "hard_cut"),
            ("noimage", "[[fault:no_image:1]] a harbour at noon", "cut"),
            ("dropped", "[[fault:drop:1]] a harbour at dusk", "cut"),
        ] + (1...9).map { ("plain\($0)", "a harbour, hour \($0)", "cut") }
    static let billedPerStyle = 13.0

    /// Illustration (flash, 2K) is priced at 0.25 (1K at 7, to show the size is read); clear (pro)
    /// has its prices removed, so it is counted unpriced. Both paced at 600 per minute.
    static let spendConfig = """
        {"requestTimeoutSeconds":10,"durability":"none","requestsPerMinute":600,"maxInFlightPerProject":1,
         "retry":{"baseDelaySeconds":0.05,"maxDelaySeconds":0.2},
         "prices":{"\(flash)":{"1K":7,"2K":\(price)},"\(pro)":{}},
         "styles":{"illustration":{"model":"\(flash)","imageSize":"2K"},"clear":{"model":"\(pro)"}}}
        """

    @Test(.timeLimit(.minutes(2)))
    func spendAndBilledRequestsMovePerRequestAndPaceIsExported() async throws {
        let workspace = try ProofWorkspace("metrics-spend")
        defer { workspace.remove() }
        try workspace.makeProject("harbour", storyboard: ProofStoryboard(shots: [(id: "h", beats: Self.spendBeats)]))
        try workspace.writeConfig(Self.spendConfig)
        let fake = FakeGeminiServer(
            configuration: FakeGeminiConfiguration(
                keys: ["AIzaSpendKeyIllustration01": "fake-1", "AIzaSpendKeyClear000002": "fake-1"], latency: .milliseconds(300)),
            logger: Logger(label: "fake-gemini", factory: { _ in SwiftLogNoOpLogHandler() }))
        let fakePort = try await fake.start()
        let launcher = ServerLauncher(
            arguments: workspace.serverArguments(config: true) + ["--metrics-listen", "127.0.0.1:0"],
            environment: [
                "IMAGEGEN_GEMINI_BASE_URL": "http://127.0.0.1:\(fakePort)",
                "IMAGEGEN_KEYS_ILLUSTRATION": "proj-spend:AIzaSpendKeyIllustration01",
                "IMAGEGEN_KEYS_CLEAR": "proj-spend:AIzaSpendKeyClear000002",
            ])
        let server = try await launcher.launch()
        do {
            try await Self.runSpendJob(metricsPort: try await Self.metricsPort(server.process), server: server)
            try await fake.shutdown()
        } catch {
            try? await fake.shutdown()
            await ServerLauncher.stop(server.process)
            throw error
        }
        #expect(await ServerLauncher.stop(server.process) == 0)
    }

    static func runSpendJob(metricsPort port: Int, server: ServerLauncher.Running) async throws {
        let before = try await HTTPProbe.scrape(port: port)
        #expect(before.problems.isEmpty, "\(before.problems)")
        let client = try await ServerLauncher.client(server)
        defer { client.close() }
        let stream = try await client.startGeneration(
            StartGenerationRequest(projectDir: "harbour", styles: ["illustration", "clear"]), timeout: .seconds(90))
        var events: [ProgressEvent] = []
        var iterator = stream.makeAsyncIterator()
        events.append(try #require(try await iterator.next(), "no accepted event"))
        let jobID = events[0].jobID

        // Mid-job: paused after the first billed answer, once nothing is in flight, no style has finished.
        _ = try await scrape(port: port) { $0.value("imagegen_engine_billed_requests_total", ["style": "illustration"]) >= 1 }
        _ = try await client.pauseGeneration(jobID)
        let paused = try await scrape(port: port) { exposition in
            exposition.value("imagegen_service_jobs", ["state": "paused"]) == 1
                && exposition.value("imagegen_engine_in_flight_requests") == 0 && midJobProblems(exposition).isEmpty
        }
        #expect(paused.value("imagegen_engine_in_flight_requests") == 0, "requests still in flight while paused")
        #expect(paused.value("imagegen_service_jobs", ["state": "paused"]) == 1)
        #expect(midJobProblems(paused).isEmpty, "\(midJobProblems(paused))")
        checkPace(paused)
        _ = try await client.resumeGeneration(jobID)

        while let event = try await iterator.next() { events.append(event) }
        let finished = try #require(EventStreams.finished(events))
        #expect(finished.state == .completedWithErrors, "\(finished.state): \(finished.message)")
        let beats = EventStreams.beatEvents(events)
        for style in ["illustration", "clear"] {
            let mine = beats.filter { $0.style == style }
            #expect(mine.filter { $0.state == .done }.count == 11 && mine.filter { $0.state == .failed }.count == 1, "\(style)")
        }
        let after = try await scrape(port: port) { $0.value("imagegen_service_jobs", ["state": "completed_with_errors"]) == 1 }
        #expect(after.problems.isEmpty, "\(after.problems)")
        checkAfterJob(before: before, after: after)
        checkPace(after)
    }

    /// What the paused job has spent so far is counted already, request by request: what is wrong, if anything.
    static func midJobProblems(_ paused: Exposition) -> [String] {
        let illustration = ["style": "illustration", "model": flash]
        let clear = ["style": "clear", "model": pro]
        let billed = paused.value("imagegen_engine_billed_requests_total", illustration)
        let answered = ["image", "blocked", "no_image"].reduce(0.0) { sum, outcome in
            sum + paused.value("imagegen_provider_requests_total", illustration.merging(["outcome": outcome]) { $1 })
        }
        let spend = paused.value("imagegen_provider_estimated_spend_usd_total", illustration)
        let unpriced = paused.value("imagegen_provider_unpriced_billed_requests_total", clear)
        let checks: [(Bool, String)] = [
            (billed >= 1 && billed < billedPerStyle, "billed \(billed) while paused: the job should be part-way"),
            (paused.value("imagegen_engine_images_done_total", ["style": "illustration"]) < 11, "illustration finished before the pause"),
            (billed == answered, "billed \(billed), billable answers \(answered)"),
            (spend == price * billed, "spend \(spend) for \(billed) billed at \(price)"),
            (paused.value("imagegen_provider_unpriced_billed_requests_total", illustration) == 0, "illustration counted unpriced"),
            (unpriced == paused.value("imagegen_engine_billed_requests_total", clear), "clear: unpriced \(unpriced)"),
        ]
        return checks.filter { !$0.0 }.map(\.1)
    }

    /// The whole job: each style's billed answers, unknown outcomes, spend and tokens.
    static func checkAfterJob(before: Exposition, after: Exposition) {
        func delta(_ name: String, _ labels: [String: String]) -> Double { after.value(name, labels) - before.value(name, labels) }
        let illustration = ["style": "illustration", "model": flash]
        let clear = ["style": "clear", "model": pro]
        let rows: [(String, [String: String], Double)] = [
            ("imagegen_engine_billed_requests_total", illustration, billedPerStyle),
            ("imagegen_engine_billed_requests_total", clear, billedPerStyle),
            ("imagegen_engine_unknown_outcome_requests_total", illustration, 1),
            ("imagegen_engine_unknown_outcome_requests_total", clear, 1),
            ("imagegen_provider_estimated_spend_usd_total", illustration, price * billedPerStyle),
            ("imagegen_provider_estimated_spend_usd_total", clear, 0),
            ("imagegen_provider_unpriced_billed_requests_total", illustration, 0),
            ("imagegen_provider_unpriced_billed_requests_total", clear, billedPerStyle),
            ("imagegen_provider_requests_total", illustration.merging(["outcome": "transient_unknown_outcome"]) { $1 }, 1),
        ]
        for (name, labels, expected) in rows {
            #expect(delta(name, labels) == expected, "\(name)\(labels): moved \(delta(name, labels)), expected \(expected)")
        }
        for name in ["imagegen_engine_prompt_tokens_total", "imagegen_engine_output_tokens_total"] {
            #expect(delta(name, illustration) > 0 && delta(name, clear) > 0, "\(name) did not grow")
        }
        #expect(after.types["imagegen_provider_estimated_spend_usd_total"] == "counter")
        #expect(after.types["imagegen_provider_unpriced_billed_requests_total"] == "counter")
    }

    /// Both quotas (one project, two models) paced at the configured 600 per minute, phase "configured".
    static func checkPace(_ exposition: Exposition) {
        for model in [flash, pro] {
            let quota = ["project": "proj-spend", "model": model]
            #expect(exposition.value("imagegen_engine_pace_requests_per_minute", quota) == 600, "\(model)")
            #expect(exposition.value("imagegen_engine_configured_limit_requests_per_minute", quota) == 600, "\(model)")
            #expect(exposition.labelSets("imagegen_engine_learned_limit_requests_per_minute").isEmpty, "no 429 stated a limit")
            let spacing = exposition.value("imagegen_engine_pace_spacing_seconds", quota)
            #expect(spacing >= 0.0999 && spacing < 10, "\(model): spacing \(spacing)")
            #expect(exposition.labelSets("imagegen_engine_send_delay_spread_seconds").contains(quota), "\(model)")
            for phase in ["configured", "slow_start", "learned", "recovering", "unpaced"] {
                let value = exposition.value("imagegen_engine_pace_phase", quota.merging(["phase": phase]) { $1 })
                #expect(value == (phase == "configured" ? 1 : 0), "\(model) phase \(phase): \(value)")
            }
        }
        #expect(Set(exposition.labelSets("imagegen_engine_pace_requests_per_minute").compactMap { $0["model"] }) == [flash, pro])
        for name in ["imagegen_engine_pace_requests_per_minute", "imagegen_engine_pace_phase", "imagegen_engine_pace_spacing_seconds"] {
            #expect(exposition.types[name] == "gauge", "\(name): \(exposition.types[name] ?? "no TYPE")")
        }
    }
}
