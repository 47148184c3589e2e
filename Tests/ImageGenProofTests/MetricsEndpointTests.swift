import FakeGemini
import Foundation
import ImageGenClient
import ImageGenRPC
import ImageGenTestSupport
import ImageGenWire
import Logging
import Testing

/// The `--metrics-listen` endpoint of the real server process, scraped over real HTTP.
@Suite("Metrics endpoint", .serialized, .timeLimit(.minutes(3)), .hangWatchdog)
struct MetricsEndpointTests {
    static let key = "AIzaMetricsKeyIllustration01"

    /// The port of the server's "metrics listening on HOST:PORT" line.
    static func metricsPort(_ process: ChildProcess) async throws -> Int {
        _ = try await process.port()
        let line = try #require(
            process.stdout.split(separator: "\n").first { $0.hasPrefix("metrics listening on 127.0.0.1:") },
            "no metrics line; stdout: \(process.stdout)")
        return try #require(line.split(separator: ":").last.flatMap { Int($0) })
    }

    /// Scrapes until `condition` holds, at most `limit`; returns the last exposition.
    static func scrape(port: Int, until condition: (Exposition) -> Bool, within limit: Duration = .seconds(15)) async throws -> Exposition {
        let deadline = ContinuousClock.now + limit
        var last = try await HTTPProbe.scrape(port: port)
        while !condition(last), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
            last = try await HTTPProbe.scrape(port: port)
        }
        return last
    }

    /// One job against the fake (an image, a 429 then an image, a blocked beat) with a paused
    /// moment and a second watcher: each metric moves by what happened, read from the job's events.
    @Test
    func everyMetricMovesWhenItsThingHappens() async throws {
        let workspace = try ProofWorkspace("metrics")
        defer { workspace.remove() }
        let beats: [ProofStoryboard.Beat] = [
            ("ok1", "a lighthouse at noon", "hard_cut"),
            ("rl", "[[fault:rate_limit:1]] a lighthouse in rain", "cut"),
            ("sf", "[[fault:safety]] a lighthouse at night", "cut"),
            ("ok2", "a lighthouse at dusk", "cut"),
        ]
        try workspace.makeProject("coast", storyboard: ProofStoryboard(shots: [(id: "c", beats: beats)]))
        try workspace.writeConfig(
            #"{"requestTimeoutSeconds":10,"durability":"none","retry":{"baseDelaySeconds":0.1,"maxDelaySeconds":0.4}}"#)
        let fake = FakeGeminiServer(
            configuration: FakeGeminiConfiguration(
                keys: [Self.key: "ill-1"], limiter: .slidingWindow(requests: 300, window: .seconds(60)), latency: .milliseconds(1000),
                faultRetryDelay: .milliseconds(200)),
            logger: Logger(label: "fake-gemini", factory: { _ in SwiftLogNoOpLogHandler() }))
        let fakePort = try await fake.start()
        let launcher = ServerLauncher(
            arguments: workspace.serverArguments(config: true) + ["--metrics-listen", "127.0.0.1:0"],
            environment: [
                "IMAGEGEN_GEMINI_BASE_URL": "http://127.0.0.1:\(fakePort)", "IMAGEGEN_KEY_RPM": "600",
                "IMAGEGEN_KEYS_ILLUSTRATION": "proj-1:\(Self.key)",
            ])
        let server = try await launcher.launch()
        do {
            let port = try await Self.metricsPort(server.process)
            let model = try #require(
                server.process.stdout.split(separator: "\n").first { $0.hasPrefix("style illustration:") }?
                    .split(separator: " ").last?.dropLast().description)
            let before = try await HTTPProbe.scrape(port: port)
            #expect(before.problems.isEmpty, "\(before.problems)")
            #expect(before.labelSets("imagegen_coordination_connected").isEmpty, "coordination series without a database")

            let client = try await ServerLauncher.client(server)
            defer { client.close() }
            let stream = try await client.startGeneration(StartGenerationRequest(projectDir: "coast", styles: ["illustration"]), timeout: .seconds(60))
            var events: [ProgressEvent] = []
            var iterator = stream.makeAsyncIterator()
            events.append(try #require(try await iterator.next(), "no accepted event"))
            let jobID = events[0].jobID

            // Requests in flight, then a pause (the job stays active) and a second watcher.
            let flying = try await Self.scrape(port: port) { $0.value("imagegen_engine_in_flight_requests", ["style": "illustration"]) > 0 }
            #expect(flying.value("imagegen_engine_in_flight_requests", ["style": "illustration"]) > 0)
            _ = try await client.pauseGeneration(jobID)
            let paused = try await HTTPProbe.scrape(port: port)
            #expect(paused.value("imagegen_service_jobs", ["state": "paused"]) == 1)
            let watchersBefore = paused.value("imagegen_service_event_stream_watchers")
            #expect(watchersBefore >= 1, "the StartGeneration stream is a watcher")
            let watch = try await client.watchJob(jobID)
            var watchIterator = watch.makeAsyncIterator()
            _ = try #require(try await watchIterator.next(), "the watcher got no event")
            let watched = try await HTTPProbe.scrape(port: port)
            #expect(watched.value("imagegen_service_event_stream_watchers") == watchersBefore + 1)
            _ = try await client.resumeGeneration(jobID)

            while let event = try await iterator.next() { events.append(event) }
            while try await watchIterator.next() != nil {}
            let finished = try #require(EventStreams.finished(events))
            #expect(finished.state == .completedWithErrors, "\(finished.state): \(finished.message)")

            // An RPC error status.
            await #expect(throws: RPCError.self) { _ = try await client.getStatus(.jobID("no-such-job")) }

            let after = try await Self.scrape(port: port) {
                $0.value("imagegen_rpc_calls_total", ["method": "imagegen.v1.ImageGeneration/GetStatus", "code": "NOT_FOUND"]) > 0
                    && $0.value("imagegen_rpc_calls_total", ["method": "imagegen.v1.ImageGeneration/StartGeneration", "code": "OK"]) > 0
                    && $0.value("imagegen_rpc_calls_total", ["method": "imagegen.v1.ImageGeneration/WatchJob", "code": "OK"]) > 0
            }
            #expect(after.problems.isEmpty, "\(after.problems)")
            Self.check(before: before, after: after, events: events, model: model)
            try await fake.shutdown()
        } catch {
            try? await fake.shutdown()
            await ServerLauncher.stop(server.process)
            throw error
        }
        #expect(await ServerLauncher.stop(server.process) == 0)
    }

    /// The matrix: each metric against what the job's events say happened.
    static func check(before: Exposition, after: Exposition, events: [ProgressEvent], model: String) {
        let style = ["style": "illustration"]
        let beats = EventStreams.beatEvents(events)
        let done = beats.filter { $0.state == .done }.count
        let failed = beats.filter { $0.state == .failed }.count
        let retries = beats.filter { $0.state == .retrying }.count
        let cooling = EventStreams.keyEvents(events).filter { $0.state == .cooling }.count
        #expect(done == 3 && failed == 1 && retries >= 1 && cooling >= 1, "done \(done) failed \(failed) retries \(retries) cooling \(cooling)")
        func delta(_ name: String, _ labels: [String: String]) -> Double { after.value(name, labels) - before.value(name, labels) }
        let images = delta("imagegen_provider_requests_total", ["outcome": "image", "http_status": "200", "model": model])
        let blocked = delta("imagegen_provider_requests_total", ["outcome": "blocked", "http_status": "200"])
        let rateLimited = beats.filter { $0.state == .retrying && $0.error.contains("rate limited") }.count
        #expect(rateLimited >= 1)
        let rows: [(String, [String: String], Double)] = [
            ("imagegen_engine_images_done_total", style.merging(["model": model]) { $1 }, Double(done)),
            ("imagegen_engine_images_failed_total", style, Double(failed)),
            ("imagegen_engine_beat_retries_total", style, Double(retries)),
            ("imagegen_engine_cooldowns_total", ["style": "illustration", "project": "proj-1"], Double(cooling)),
            ("imagegen_engine_key_state_changes_total", ["state": "cooling"], Double(cooling)),
            ("imagegen_provider_requests_total", ["outcome": "rate_limited", "http_status": "429"], Double(rateLimited)),
            ("imagegen_provider_rate_limited_total", ["window": "minute"], Double(rateLimited)),
            ("imagegen_engine_billed_requests_total", style, images + blocked),
            ("imagegen_service_jobs", ["state": "completed_with_errors"], 1),
            ("imagegen_rpc_calls_total", ["method": "imagegen.v1.ImageGeneration/GetStatus", "code": "NOT_FOUND"], 1),
            ("imagegen_rpc_calls_total", ["method": "imagegen.v1.ImageGeneration/StartGeneration", "code": "OK"], 1),
            ("imagegen_rpc_calls_total", ["method": "imagegen.v1.ImageGeneration/PauseGeneration", "code": "OK"], 1),
            ("imagegen_rpc_calls_total", ["method": "imagegen.v1.ImageGeneration/WatchJob", "code": "OK"], 1),
            ("imagegen_rpc_call_duration_seconds_count", ["method": "imagegen.v1.ImageGeneration/StartGeneration"], 1),
            ("imagegen_rpc_call_duration_seconds_bucket", ["method": "imagegen.v1.ImageGeneration/StartGeneration", "le": "+Inf"], 1),
        ]
        for (name, labels, expected) in rows {
            #expect(delta(name, labels) == expected, "\(name)\(labels): moved \(delta(name, labels)), expected \(expected)")
        }
        #expect(images == Double(done), "image requests \(images), done \(done)")
        #expect(blocked >= 1)
        for name in ["imagegen_engine_prompt_tokens_total", "imagegen_engine_output_tokens_total"] {
            #expect(delta(name, style) > 0, "\(name) did not grow")
        }
        // Back to rest: nothing in flight, no watcher, the job no longer running.
        #expect(after.value("imagegen_engine_in_flight_requests", style) == 0)
        #expect(after.value("imagegen_service_event_stream_watchers") == 0)
        #expect(after.value("imagegen_service_jobs", ["state": "running"]) == 0)
        // The 429 stated the fake's limit (300 a minute): learned, under the configured 600.
        let quota = ["project": "proj-1", "model": model]
        let pace: [(String, [String: String], Double)] = [
            ("imagegen_engine_learned_limit_requests_per_minute", quota, 300),
            ("imagegen_engine_configured_limit_requests_per_minute", quota, 600),
            ("imagegen_engine_pace_requests_per_minute", quota, 300),
            ("imagegen_engine_pace_phase", quota.merging(["phase": "learned"]) { $1 }, 1),
            ("imagegen_engine_pace_phase", quota.merging(["phase": "configured"]) { $1 }, 0),
            // A stated limit under the pace is learned, not a bunching: no pushback.
            ("imagegen_engine_pace_pushback_percent", [:], 0),
        ]
        for (name, labels, expected) in pace {
            #expect(after.value(name, labels) == expected, "\(name)\(labels): \(after.value(name, labels)), expected \(expected)")
        }
        #expect(after.labelSets("imagegen_engine_learned_limit_requests_per_minute") == [quota])
        let types: [String: String] = [
            "imagegen_rpc_calls_total": "counter", "imagegen_rpc_call_duration_seconds": "histogram",
            "imagegen_engine_in_flight_requests": "gauge", "imagegen_service_jobs": "gauge",
            "imagegen_provider_requests_total": "counter", "imagegen_service_event_stream_watchers": "gauge",
        ]
        for (name, type) in types { #expect(after.types[name] == type, "\(name): \(after.types[name] ?? "no TYPE")") }
    }

    /// What the endpoint answers to each kind of request, on an offline server.
    @Test(arguments: [
        ("GET /metrics", 200), ("GET /metrics?name=x", 200), ("GET /", 404), ("GET /metrics/x", 404),
        ("POST /metrics", 404), ("oversize", 431),
    ])
    func answers(request: String, status: Int) async throws {
        let workspace = try ProofWorkspace("metrics-http")
        defer { workspace.remove() }
        let server = try await ServerLauncher(arguments: workspace.serverArguments(config: false) + ["--metrics-listen", "127.0.0.1:0"]).launch()
        do {
            try await Self.check(request: request, status: status, port: try await Self.metricsPort(server.process))
        } catch {
            await ServerLauncher.stop(server.process)
            throw error
        }
        #expect(await ServerLauncher.stop(server.process) == 0)
    }

    static func check(request: String, status: Int, port: Int) async throws {
        let response: HTTPProbe.Response
        if request == "oversize" {
            let padding = String(repeating: "a", count: 16 * 1024)
            response = try await HTTPProbe.get(port: port, "/metrics", extraHeaders: "X-Padding: \(padding)\r\n")
        } else {
            let parts = request.split(separator: " ")
            response = try await HTTPProbe.exchange(
                port: port, Array("\(parts[0]) \(parts[1]) HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n".utf8))
        }
        #expect(response.status == status, "\(request): \(response.status) \(response.body.prefix(200))")
        if status == 200 {
            let exposition = Exposition(response.body)
            #expect(exposition.problems.isEmpty, "\(exposition.problems)")
            #expect(exposition.types["imagegen_service_jobs"] == "gauge")
        }
        // The endpoint still answers after any of these.
        #expect(try await HTTPProbe.scrape(port: port).problems.isEmpty)
    }

    /// `--metrics-listen` refusals and the default (off).
    @Test(arguments: [
        (["--metrics-listen", "0.0.0.0:0"], "is not a loopback address"),
        (["--metrics-listen", "127.0.0.1"], "--metrics-listen must be HOST:PORT"),
        ([], ""),
    ])
    func flag(arguments extra: [String], refusal: String) async throws {
        let workspace = try ProofWorkspace("metrics-flag")
        defer { workspace.remove() }
        let process = try ChildProcess("imagegen-server", arguments: workspace.serverArguments(config: false) + extra, environment: ServerLauncher.clearedEnvironment)
        if refusal.isEmpty {
            _ = try await process.port()
            #expect(!process.stdout.contains("metrics listening"), "metrics are off by default: \(process.stdout)")
            #expect(await ServerLauncher.stop(process) == 0)
        } else {
            let status = try await process.waitForExit(timeout: .seconds(20))
            #expect(status != 0)
            #expect(process.stderr.contains(refusal), "stderr: \(process.stderr)")
        }
    }
}
