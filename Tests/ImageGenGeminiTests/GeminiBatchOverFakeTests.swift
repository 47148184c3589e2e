import FakeGemini
import Foundation
import ImageGenEngine
import ImageGenGemini
import ImageGenTestSupport
import Testing

/// The Batch API end to end over loopback HTTP: `GeminiProvider`'s batch calls (libcurl) against
/// the fake's Batch API, on the fake's manual clock so states move exactly when the test says.
@Suite("Batch API over the fake", .timeLimit(.minutes(1)), .hangWatchdog)
struct GeminiBatchOverFakeTests {
    typealias Support = GeminiTestSupport

    static func submission(_ prompts: [String], key: APIKey = Support.keyA, name: String = "imagegen t clear w1 #1", aspectRatio: String = "16:9")
        -> BatchSubmission
    {
        BatchSubmission(
            model: Support.model, displayName: name, key: key,
            entries: prompts.enumerated().map { index, prompt in
                BatchSubmission.Entry(
                    key: "clear/1/1.\(index + 1)",
                    request: Support.request(prompt, key: key, aspectRatio: aspectRatio))
            }, timeout: .seconds(10))
    }

    static func configuration(clock: FakeGeminiClock, faults: [FakeGeminiBatchFault] = []) -> FakeGeminiConfiguration {
        Support.fakeConfiguration {
            $0.clock = clock
            $0.batchPendingTime = .seconds(10)
            $0.batchRunningTime = .seconds(40)
            $0.batchFaults = faults
        }
    }

    @Test func pendingRunningSucceededWithEveryKindOfResult() async throws {
        let clock = FakeGeminiClock.manual()
        try await Support.withFake(Self.configuration(clock: clock)) { fake, provider in
            let prompts = ["a lighthouse", "a storm [[fault:safety]]", "a gull [[fault:server_error]]", "a boat [[fault:text_only]]"]
            let created = try await provider.createBatch(Self.submission(prompts))
            #expect(created.state == .pending && created.stats.requestCount == 4 && created.stats.pendingRequestCount == 4)
            #expect(created.displayName == "imagegen t clear w1 #1" && created.model == Support.model)
            let read = { try await provider.batch(named: created.name, key: Support.keyA, timeout: .seconds(10)) }
            #expect(try await read()?.state == .pending)
            clock.advance(by: .seconds(30))
            let running = try #require(try await read())
            #expect(running.state == .running)
            #expect(running.stats.processed == 2 && running.results.isEmpty, "two of four processed after half the running time")
            clock.advance(by: .seconds(30))
            let done = try #require(try await read())
            #expect(done.state == .succeeded && done.stats.processed == 4)
            #expect(try done.results["clear/1/1.1"]?.get().mimeType == "image/png")
            func failure(_ key: String) -> ProviderFailure? {
                if case .failure(let failure)? = done.results[key] { return failure }
                return nil
            }
            if case .blocked? = failure("clear/1/1.2") {} else { Issue.record("1.2: \(String(describing: failure("clear/1/1.2")))") }
            if case .transient(500, _, _)? = failure("clear/1/1.3") {} else { Issue.record("1.3: \(String(describing: failure("clear/1/1.3")))") }
            if case .noImage? = failure("clear/1/1.4") {} else { Issue.record("1.4: \(String(describing: failure("clear/1/1.4")))") }
            // Each request in the batch carried the image settings; each was billed once, in the batch lane.
            let log = fake.requestLog()
            #expect(log.count == 4 && log.allSatisfy { $0.lane == "batch" && $0.aspectRatio == "16:9" && $0.imageSize == "1K" })
            #expect(fake.batches().first?.processedKeys.count == 4)
        }
    }

    @Test("how a batch ends, by its fault", arguments: [
        (FakeGeminiBatchFault.expire, BatchState.expired, 0),
        (.fail, .failed, 0),
        (.partialThenCancelled(count: 2), .cancelled, 2),
        (.stuckPending, .pending, 0),
    ])
    func ends(fault: FakeGeminiBatchFault, state: BatchState, results: Int) async throws {
        let clock = FakeGeminiClock.manual()
        try await Support.withFake(Self.configuration(clock: clock, faults: [fault])) { fake, provider in
            let created = try await provider.createBatch(Self.submission(["a", "b", "c"]))
            clock.advance(by: .seconds(120))
            let snapshot = try #require(try await provider.batch(named: created.name, key: Support.keyA, timeout: .seconds(10)))
            #expect(snapshot.state == state)
            #expect(snapshot.results.count == results)
            #expect(fake.requestLog().count == results, "billed exactly what was processed")
        }
    }

    @Test func cancelMidRunKeepsExactlyWhatWasProcessed() async throws {
        let clock = FakeGeminiClock.manual()
        try await Support.withFake(Self.configuration(clock: clock)) { fake, provider in
            let created = try await provider.createBatch(Self.submission(["a", "b", "c", "d"]))
            clock.advance(by: .seconds(10 + 25))
            try await provider.cancelBatch(named: created.name, key: Support.keyA, timeout: .seconds(10))
            clock.advance(by: .seconds(100))
            let snapshot = try #require(try await provider.batch(named: created.name, key: Support.keyA, timeout: .seconds(10)))
            #expect(snapshot.state == .cancelled)
            #expect(Set(snapshot.results.keys) == ["clear/1/1.1", "clear/1/1.2"])
            #expect(snapshot.stats.processed == 2)
            #expect(fake.batches().first?.processedKeys == ["clear/1/1.1", "clear/1/1.2"])
            // Cancelling an ended batch changes nothing.
            try await provider.cancelBatch(named: created.name, key: Support.keyA, timeout: .seconds(10))
            #expect(try await provider.batch(named: created.name, key: Support.keyA, timeout: .seconds(10))?.results.count == 2)
        }
    }

    @Test func listingPagesNewestFirstPerProjectAndDeleteForgets() async throws {
        let clock = FakeGeminiClock.manual()
        try await Support.withFake(Self.configuration(clock: clock)) { _, provider in
            var names: [String] = []
            for index in 0..<103 {
                names.append(try await provider.createBatch(Self.submission(["p\(index)"], name: "imagegen t clear w1 #\(index)")).name)
            }
            let first = try await provider.listBatches(key: Support.keyA, pageToken: nil, timeout: .seconds(10))
            #expect(first.batches.count == 100 && first.nextPageToken != nil)
            #expect(first.batches.first?.displayName == "imagegen t clear w1 #102")
            let second = try await provider.listBatches(key: Support.keyA, pageToken: first.nextPageToken, timeout: .seconds(10))
            #expect(second.batches.map(\.displayName) == ["imagegen t clear w1 #2", "imagegen t clear w1 #1", "imagegen t clear w1 #0"])
            #expect(second.nextPageToken == nil)
            // Another project sees none of them, and cannot read one.
            #expect(try await provider.listBatches(key: Support.keyB, pageToken: nil, timeout: .seconds(10)).batches.isEmpty)
            #expect(try await provider.batch(named: names[0], key: Support.keyB, timeout: .seconds(10)) == nil)
            try await provider.deleteBatch(named: names[0], key: Support.keyA, timeout: .seconds(10))
            #expect(try await provider.batch(named: names[0], key: Support.keyA, timeout: .seconds(10)) == nil)
            try await provider.deleteBatch(named: names[0], key: Support.keyA, timeout: .seconds(10))
        }
    }

    @Test func aLostCreateAnswerIsAnUnknownOutcomeAndTheBatchIsFoundByName() async throws {
        let clock = FakeGeminiClock.manual()
        try await Support.withFake(Self.configuration(clock: clock, faults: [.loseCreateAnswer])) { fake, provider in
            do {
                _ = try await provider.createBatch(Self.submission(["a"], name: "imagegen lost clear w1 #1"))
                Issue.record("the create answered")
            } catch let failure as ProviderFailure {
                if case .transient(_, _, true) = failure {} else { Issue.record("\(failure)") }
            }
            #expect(fake.batches().count == 1, "the batch was created")
            let page = try await provider.listBatches(key: Support.keyA, pageToken: nil, timeout: .seconds(10))
            #expect(page.batches.map(\.displayName) == ["imagegen lost clear w1 #1"])
        }
    }

    @Test("bad requests are refused naming what is wrong, and create nothing", arguments: [
        ("aspect", "generation_config.image_config.aspect_ratio"),
        ("key", "API key not valid"),
        ("name", "is not a batch name"),
    ])
    func refusals(what: String, expected: String) async throws {
        try await Support.withFake(Self.configuration(clock: .manual())) { fake, provider in
            do {
                switch what {
                case "aspect": _ = try await provider.createBatch(Self.submission(["a"], aspectRatio: "7:3"))
                case "key":
                    let bad = APIKey(secret: "AIzaSyUNKNOWN-key-000000", project: "x", style: "test", index: 3)
                    _ = try await provider.createBatch(Self.submission(["a"], key: bad))
                default: _ = try await provider.batch(named: "batches/../etc", key: Support.keyA, timeout: .seconds(10))
                }
                Issue.record("accepted")
            } catch let failure as ProviderFailure {
                #expect(Support.message(of: failure).contains(expected) || failure.description.contains(expected), "\(failure)")
                #expect(!failure.description.contains("AIzaSyUNKNOWN"))
                if what == "key" { if case .keyRejected = failure {} else { Issue.record("\(failure)") } }
            }
            #expect(fake.batches().isEmpty)
        }
    }
}
