import FakeGemini
import Foundation
import ImageGenEngine
import ImageGenGemini
import Synchronization
import ImageGenTestSupport
import Testing

/// The real provider over real loopback HTTP against the in-process fake.
@Suite("GeminiProvider against FakeGeminiServer", .serialized, .timeLimit(.minutes(2)), .hangWatchdog)
struct GeminiProviderTests {
    typealias Support = GeminiTestSupport

    @Test func successReturnsTheImageAndUsageAndSendsTheRightBody() async throws {
        let recorder = LogRecorder()
        try await Support.withFake(recorder: recorder) { server, provider in
            let reference = ReferenceImage(mimeType: "image/png", data: try TinyImageEncoder.png(seed: "style"))
            let jpegReference = ReferenceImage(mimeType: "image/jpg", data: TinyImageEncoder.jpeg())
            let image = try await provider.generate(
                Support.request("a lighthouse at dusk", references: [reference, jpegReference], aspectRatio: "16:9", imageSize: "2K"))
            #expect(image.mimeType == "image/png")
            #expect(try image.data == FakeGeminiServer.image(for: "a lighthouse at dusk"))
            #expect(image.usage.outputTokens == 1290)
            #expect(image.usage.promptTokens > 2 * 258)
            #expect(image.usage.totalTokens == image.usage.promptTokens + image.usage.outputTokens)
            #expect(image.text == "Here is the image you asked for.")

            let log = server.requestLog()
            #expect(log.count == 1)
            let entry = try #require(log.first)
            #expect(entry.keySource == "header")
            // libcurl asks for compression and the fake answered gzip.
            #expect(entry.acceptEncoding?.contains("gzip") == true)
            #expect(entry.keyLabel == "…0001")
            #expect(entry.project == "project-a")
            #expect(entry.model == Support.model)
            #expect(entry.prompt == "a lighthouse at dusk")
            #expect(entry.referenceCount == 2)
            #expect(entry.referenceMimeTypes == ["image/png", "image/jpeg"])
            #expect(entry.aspectRatio == "16:9")
            #expect(entry.imageSize == "2K")
            #expect(entry.responseModalities == ["IMAGE"])
            #expect(entry.kind == "image")
            #expect(entry.status == 200)
        }
        for line in recorder.all {
            for secret in Support.allSecrets { #expect(!line.contains(secret)) }
        }
    }

    @Test func multiMegabyteReferencesAreSent() async throws {
        try await Support.withFake { server, provider in
            let references = (0..<3).map { index in
                ReferenceImage(mimeType: "image/png", data: Data(repeating: UInt8(index + 1), count: 3 << 20))
            }
            let image = try await provider.generate(Support.request("with big references", references: references))
            #expect(try image.data == FakeGeminiServer.image(for: "with big references"))
            #expect(server.requestLog().last?.referenceCount == 3)
        }
    }

    @Test func differentPromptsGiveDifferentValidImages() async throws {
        try await Support.withFake { _, provider in
            let first = try await provider.generate(Support.request("one", aspectRatio: nil, imageSize: nil))
            let second = try await provider.generate(Support.request("two", aspectRatio: nil, imageSize: nil))
            #expect(first.data != second.data)
            #expect(first.mimeType == "image/png" && second.mimeType == "image/png")
        }
    }

    /// What each fault must classify as.
    static func expectation(for fault: FakeGeminiFault, _ failure: ProviderFailure?) -> Bool {
        switch (fault, failure) {
        case (.rateLimit, .rateLimited(let limit)) where limit.window == .minute && limit.retryAfter != nil:
            let retryAfter = limit.retryAfter ?? .zero
            return abs(Support.seconds(retryAfter) - 1.5) < 0.01
        case (.rateLimitBare, .rateLimited(let limit)): return limit == RateLimit(message: limit.message)
        case (.dailyQuota, .rateLimited(let limit)): return limit.perDay
        case (.invalidKey, .keyRejected(400, _)): return true
        case (.forbidden, .keyRejected(403, _)): return true
        case (.serverError, .transient(500, _, false)): return true
        case (.unavailable, .transient(503, let message, false)): return message.contains("overloaded")
        case (.gatewayTimeout, .transient(504, _, false)): return true
        case (.drop, .transient(nil, _, true)): return true
        case (.hang, .transient(nil, let message, true)): return message.contains("timed out")
        case (.safety, .blocked("PROHIBITED_CONTENT", _)): return true
        case (.imageSafety, .blocked("IMAGE_SAFETY", let message)): return message.contains("filtered")
        case (.textOnly, .noImage("TEXT_ONLY", _)): return true
        case (.noImage, .noImage("NO_IMAGE", _)): return true
        case (.brokenBase64, .transient(200, let message, true)): return message.contains("base64")
        case (.htmlError, .transient(502, let message, false)): return message.contains("502 Bad Gateway")
        case (.jpegAsPNG, nil): return true
        case (.modelNotFound, .configuration(404, let message)): return message.contains("not found")
        default: return false
        }
    }

    @Test("every fault is classified", arguments: FakeGeminiFault.allCases)
    func faultClassification(fault: FakeGeminiFault) async throws {
        let recorder = LogRecorder()
        try await Support.withFake(recorder: recorder) { server, provider in
            let prompt = "beat 7 [[fault:\(fault.rawValue)]]"
            let request = Support.request(prompt, timeout: fault == .hang ? .milliseconds(400) : .seconds(10))
            let failure = await Support.failure(of: provider, request)
            #expect(Self.expectation(for: fault, failure), "\(fault.rawValue) → \(failure.map { "\($0)" } ?? "success")")
            if let failure {
                for secret in Support.allSecrets {
                    #expect(!"\(failure)".contains(secret))
                    #expect(!String(reflecting: failure).contains(secret))
                }
            }
            if fault == .jpegAsPNG {
                let image = try await provider.generate(request)
                #expect(image.mimeType == "image/jpeg")
                #expect(image.data == TinyImageEncoder.jpeg())
            }
            #expect(server.requestLog().first?.kind == fault.rawValue)
        }
        for line in recorder.all {
            for secret in Support.allSecrets { #expect(!line.contains(secret)) }
        }
    }

    @Test func promptFaultWithCountSucceedsAfterNAttempts() async throws {
        try await Support.withFake { server, provider in
            let request = Support.request("retry me [[fault:unavailable:2]]")
            for _ in 0..<2 {
                let failure = await Support.failure(of: provider, request)
                guard case .transient(503, _, _) = failure else {
                    Issue.record("expected 503, got \(String(describing: failure))")
                    return
                }
            }
            _ = try await provider.generate(request)
            #expect(server.requestLog().map(\.kind) == ["unavailable", "unavailable", "image"])
        }
    }

    @Test func scriptedFaultsAreConsumedInOrderAndPerKey() async throws {
        try await Support.withFake { server, provider in
            server.enqueueFaults([FakeGeminiScriptedFault(.forbidden, key: Support.secretB), FakeGeminiScriptedFault(.serverError)])
            let first = await Support.failure(of: provider, Support.request("a", key: Support.keyA))
            #expect(first == .transient(status: 500, message: "An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting", outcomeUnknown: false))
            #expect(await Support.failure(of: provider, Support.request("b", key: Support.keyA)) == nil)
            guard case .keyRejected(403, _) = await Support.failure(of: provider, Support.request("c", key: Support.keyB)) else {
                Issue.record("expected 403 for key B")
                return
            }
            #expect(await Support.failure(of: provider, Support.request("d", key: Support.keyB)) == nil)
        }
    }

    @Test func keysAndRequestErrorsAreClassified() async throws {
        let configuration = Support.fakeConfiguration {
            $0.forbiddenKeys = ["AIzaSyTEST-forbidden-key-9999"]
            $0.models = [Support.model]
        }
        try await Support.withFake(configuration) { _, provider in
            let unknown = APIKey(secret: "AIzaSyTEST-unknown-key-7777", project: "x", label: "unknown…7777")
            let forbidden = APIKey(secret: "AIzaSyTEST-forbidden-key-9999", project: "x", label: "forbidden…9999")
            let unknownFailure = await Support.failure(of: provider, Support.request("p", key: unknown))
            guard case .keyRejected(400, let message)? = unknownFailure else {
                Issue.record("unknown key: \(String(describing: unknownFailure))")
                return
            }
            #expect(message.contains("API key not valid"))
            #expect(!message.contains(unknown.secret))
            guard case .keyRejected(403, _)? = await Support.failure(of: provider, Support.request("p", key: forbidden)) else {
                Issue.record("forbidden key")
                return
            }
            let badRatio = await Support.failure(of: provider, Support.request("p", aspectRatio: "7:5"))
            guard case .badRequest(let ratioMessage)? = badRatio else {
                Issue.record("bad aspect ratio: \(String(describing: badRatio))")
                return
            }
            #expect(ratioMessage.contains("aspect ratio"))
            guard case .badRequest? = await Support.failure(of: provider, Support.request("p", imageSize: "1k")) else {
                Issue.record("bad image size")
                return
            }
            var otherModel = Support.request("p")
            otherModel.model = "gemini-2.0-flash-preview-image-generation"
            guard case .configuration(404, _)? = await Support.failure(of: provider, otherModel) else {
                Issue.record("unknown model")
                return
            }
        }
    }

    @Test func aKeyWithALineBreakIsRejectedBeforeSending() async throws {
        try await Support.withFake { server, provider in
            let key = APIKey(secret: "AIzaSyTEST\r\nX-Injected: 1", project: "x", label: "bad…key")
            guard case .keyRejected(0, _)? = await Support.failure(of: provider, Support.request("p", key: key)) else {
                Issue.record("expected a local key rejection")
                return
            }
            #expect(server.requestLog().isEmpty)
        }
    }

    @Test func paceLimitAnswers429WithAnHonouredRetryDelay() async throws {
        let configuration = Support.fakeConfiguration {
            $0.requestsPerMinute = 3
            $0.rateWindow = .seconds(2)
        }
        try await Support.withFake(configuration) { server, provider in
            for index in 0..<3 { _ = try await provider.generate(Support.request("pace \(index)")) }
            // Another project has its own quota.
            _ = try await provider.generate(Support.request("other project", key: Support.keyB))
            let failure = await Support.failure(of: provider, Support.request("pace 3"))
            guard case .rateLimited(let limit)? = failure, let retryAfter = limit.retryAfter, !limit.perDay else {
                Issue.record("expected 429 with a delay, got \(String(describing: failure))")
                return
            }
            let message = limit.message
            #expect(message.contains("exceeded your current quota"))
            #expect(retryAfter > .zero && retryAfter <= .seconds(2))
            #expect(server.requestLog().last?.kind == "rate_limited")
            try await Task.sleep(for: retryAfter + .milliseconds(20))
            _ = try await provider.generate(Support.request("pace 3"))
        }
    }

    /// The engine measures how late requests reach the wire from `onSent`: called once per request,
    /// after it was handed over and before its answer, with a reference image (a large body) or none.
    @Test(arguments: [0, 600_000])
    func onSentIsCalledOnceWhenTheWholeRequestIsOut(referenceBytes: Int) async throws {
        try await Support.withFake(Support.fakeConfiguration { $0.latency = .milliseconds(200) }) { _, provider in
            let calls = Mutex<[ContinuousClock.Instant]>([])
            let references = referenceBytes == 0 ? [] : [ReferenceImage(mimeType: "image/png", data: Data(count: referenceBytes))]
            var request = Support.request("sent", references: references)
            request.onSent = { instant in calls.withLock { $0.append(instant) } }
            let started = ContinuousClock.now
            _ = try await provider.generate(request)
            let answered = ContinuousClock.now
            let sent = calls.withLock { $0 }
            #expect(sent.count == 1)
            if let at = sent.first {
                #expect(at >= started && answered - at >= .milliseconds(190), "sent \(at - started) after the start, answered \(answered - at) later")
            }
        }
    }

    @Test func aOneMinuteWindowAsksToWaitUntilTheOldestRequestLeavesIt() async throws {
        try await Support.withFake(Support.fakeConfiguration { $0.requestsPerMinute = 2 }) { _, provider in
            for index in 0..<2 { _ = try await provider.generate(Support.request("minute \(index)")) }
            guard case .rateLimited(let limit)? = await Support.failure(of: provider, Support.request("minute 2")),
                let retryAfter = limit.retryAfter, limit.window == .minute
            else {
                Issue.record("expected a per-minute 429")
                return
            }
            let message = limit.message
            #expect(limit.limitPerMinute == 2, "the fake's limit, as its quotaValue says")
            #expect(retryAfter > .seconds(55) && retryAfter <= .seconds(60))
            #expect(message.contains("Please retry in"))
        }
    }

    @Test func dailyLimitIsPerDay() async throws {
        try await Support.withFake(Support.fakeConfiguration { $0.requestsPerDay = 2 }) { _, provider in
            for index in 0..<2 { _ = try await provider.generate(Support.request("day \(index)")) }
            guard case .rateLimited(let limit)? = await Support.failure(of: provider, Support.request("day 2")), limit.perDay,
                limit.limit == 2
            else {
                Issue.record("expected a per-day 429")
                return
            }
        }
    }

    @Test func aHangingServerTimesOutWithOutcomeUnknown() async throws {
        try await Support.withFake { _, provider in
            let started = ContinuousClock.now
            let failure = await Support.failure(of: provider, Support.request("[[fault:hang]]", timeout: .milliseconds(300)))
            let elapsed = ContinuousClock.now - started
            #expect(failure.map { if case .transient(nil, _, true) = $0 { true } else { false } } == true)
            #expect(elapsed >= .milliseconds(250) && elapsed < .seconds(2))
        }
    }

    @Test func aRefusedConnectionIsTransientAndNotSent() async throws {
        let server = FakeGeminiServer(logger: LogRecorder().logger(label: "closed"))
        let port = try await server.start()
        try await server.shutdown()
        let provider = try GeminiProvider(
            configuration: GeminiConfiguration(baseURL: "http://127.0.0.1:\(port)"), logger: LogRecorder().logger(label: "gemini"))
        let failure = await Support.failure(of: provider, Support.request("nobody listens"))
        await provider.shutdown()
        guard case .transient(nil, let message, false)? = failure else {
            Issue.record("expected a transient connect failure, got \(String(describing: failure))")
            return
        }
        #expect(message.contains("connect"))
    }

    @Test func aResponseAboveTheMaximumSizeIsTransient() async throws {
        try await Support.withFake(provider: GeminiConfiguration(maxResponseBytes: 200)) { _, provider in
            let failure = await Support.failure(of: provider, Support.request("big"))
            guard case .transient(_, let message, true)? = failure else {
                Issue.record("expected transient, got \(String(describing: failure))")
                return
            }
            #expect(message.contains("larger"))
        }
    }

    @Test func cancellingTheTaskAbortsTheTransferPromptly() async throws {
        try await Support.withFake { server, provider in
            let task = Task { await Support.failure(of: provider, Support.request("wait forever [[fault:hang]]", timeout: .seconds(30))) }
            #expect(await Support.eventually { server.requestLog().count == 1 && server.openConnectionCount == 1 })
            let cancelled = ContinuousClock.now
            task.cancel()
            let failure = await task.value
            #expect(ContinuousClock.now - cancelled < .seconds(1))
            #expect(failure == .cancelled)
            #expect(await Support.eventually(timeout: .seconds(1)) { server.openConnectionCount == 0 })
        }
    }

    @Test func anAlreadyCancelledTaskDoesNotSend() async throws {
        try await Support.withFake { server, provider in
            let task = Task {
                withUnsafeCurrentTask { $0?.cancel() }
                return await Support.failure(of: provider, Support.request("never sent"))
            }
            #expect(await task.value == .cancelled)
            #expect(server.requestLog().isEmpty)
        }
    }

    @Test func fiftyConcurrentTransfersShareOneIOThread() async throws {
        let configuration = Support.fakeConfiguration { $0.latency = .milliseconds(300) }
        try await Support.withFake(configuration) { server, provider in
            _ = try await provider.generate(Support.request("warm-up"))
            let before = Support.threadCount()
            let mine = provider.ioThreadName
            let ioThreadsBefore = Support.threads(exactlyNamed: mine).count
            let started = ContinuousClock.now
            let (peak, ioPeak) = try await withThrowingTaskGroup(of: (Int, Int).self) { group in
                for index in 0..<50 {
                    group.addTask {
                        let image = try await provider.generate(Support.request("concurrent \(index)"))
                        #expect(try image.data == FakeGeminiServer.image(for: "concurrent \(index)"))
                        return (Support.threadCount(), Support.threads(exactlyNamed: mine).count)
                    }
                }
                var peak = (0, 0)
                for try await (count, ioCount) in group { peak = (max(peak.0, count), max(peak.1, ioCount)) }
                return peak
            }
            // This provider's own I/O thread (each provider names its own), whatever other suites run.
            #expect(ioThreadsBefore == 1 && ioPeak == 1, "\(mine) threads \(ioThreadsBefore) → \(ioPeak)")
            let elapsed = ContinuousClock.now - started
            #expect(server.requestLog().count == 51)
            // 50 × 300 ms one after another would take 15 s; concurrently it takes about one latency.
            #expect(elapsed < .seconds(8))
            #expect(peak - before < 10, "threads before \(before), peak \(peak)")
        }
    }

    @Test func shutdownAbortsTransfersInFlight() async throws {
        try await Support.withFake { server, provider in
            async let failure = Support.failure(of: provider, Support.request("in flight [[fault:hang]]", timeout: .seconds(30)))
            #expect(await Support.eventually { server.openConnectionCount == 1 })
            let started = ContinuousClock.now
            await provider.shutdown()
            #expect(await failure == .cancelled)
            #expect(ContinuousClock.now - started < .seconds(1))
            #expect(await Support.eventually { server.openConnectionCount == 0 })
        }
    }

    @Test func shutdownJoinsTheThreadAndLaterCallsAreCancelled() async throws {
        // By its own thread's name (each provider names its own): other tests start and end
        // threads meanwhile (providers, pipe readers of child processes).
        let provider = try GeminiProvider(
            configuration: GeminiConfiguration(baseURL: "http://127.0.0.1:9"), logger: LogRecorder().logger(label: "gemini"))
        let name = provider.ioThreadName
        #expect(await Support.eventually { Support.threads(exactlyNamed: name).count == 1 }, "the provider's I/O thread \(name)")
        await provider.shutdown()
        await provider.shutdown()
        #expect(await Support.failure(of: provider, Support.request("after shutdown")) == .cancelled)
        #expect(await Support.eventually { Support.threads(exactlyNamed: name).isEmpty }, "\(name) outlived its shutdown")
    }

    @Test func providerAndFakeLeaveNoThreadsBehind() async throws {
        // By the threads' own names (each provider and each fake names its own, once in a
        // process): other suites start and end threads meanwhile, and the kernel reuses their ids.
        let server = FakeGeminiServer(configuration: Support.fakeConfiguration(), logger: LogRecorder().logger(label: "fake"))
        let port = try await server.start()
        let provider = try GeminiProvider(
            configuration: GeminiConfiguration(baseURL: "http://127.0.0.1:\(port)"), logger: LogRecorder().logger(label: "gemini"))
        _ = try await provider.generate(Support.request("threads"))
        let names = [provider.ioThreadName, try #require(await server.ioThreadName())]
        #expect(names[1].hasPrefix("NIO-ELT-"))
        for name in names {
            #expect(Support.threads(exactlyNamed: name).count == 1, "\(name) is running")
        }
        await provider.shutdown()
        try await server.shutdown()
        for name in names {
            #expect(await Support.eventually(timeout: .seconds(5)) { Support.threads(exactlyNamed: name).isEmpty }, "\(name) outlived its shutdown")
        }
    }
}

extension GeminiProviderTests {
    @Test func aDropOnAWarmConnectionIsNotSilentlyRetried() async throws {
        try await Support.withFake { server, provider in
            _ = try await provider.generate(Support.request("warm"))
            server.enqueueFaults([FakeGeminiScriptedFault(.drop)])
            let failure = await Support.failure(of: provider, Support.request("dropped"))
            #expect(server.requestLog().map(\.kind) == ["image", "drop"])
            guard case .transient(nil, _, true)? = failure else {
                Issue.record("expected transient with outcome unknown, got \(String(describing: failure))")
                return
            }
        }
    }

    /// With reuse on, libcurl re-sends a POST whose reused connection died unanswered: the reason
    /// reuse is off by default.
    @Test func connectionReuseIsOptInAndRetriesADroppedPost() async throws {
        try await Support.withFake(provider: GeminiConfiguration(reuseConnections: true)) { server, provider in
            _ = try await provider.generate(Support.request("warm"))
            server.enqueueFaults([FakeGeminiScriptedFault(.drop)])
            _ = try await provider.generate(Support.request("dropped then re-sent"))
            #expect(server.requestLog().map(\.kind) == ["image", "drop", "image"])
        }
    }
}
