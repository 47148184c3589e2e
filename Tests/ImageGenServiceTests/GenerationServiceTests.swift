import Foundation
import ImageGenClient
import ImageGenRPC
import ImageGenTestSupport
import ImageGenWire
import NIOCore
import NIOPosix
import Synchronization
import Testing

@Suite("ImageGeneration service over loopback", .timeLimit(.minutes(2)), .hangWatchdog)
struct GenerationServiceTests {
    @Test("start: accepted first, seqs without gaps, finished last, every image on disk")
    func startToCompletion() async throws {
        let sandbox = try ServiceSandbox()
        defer { sandbox.remove() }
        try sandbox.project("film")
        try await withGenerationServer(sandbox, latency: .milliseconds(1)) { client, _ in
            let events = try await collect(try await client.startGeneration(
                StartGenerationRequest(projectDir: "film", storyboard: sampleStoryboard(shots: 2, beats: 3))))
            expectConsecutive(events, from: 1)
            guard case .accepted(let accepted)? = events.first?.kind else {
                Issue.record("first event is not accepted: \(String(describing: events.first))")
                return
            }
            #expect(accepted.styles.map(\.style) == ["illustration", "clear", "consistent"])
            #expect(accepted.styles.allSatisfy { $0.total == 6 && $0.completed == 0 })
            #expect(accepted.attached == false)
            let done = try #require(finished(events))
            #expect(done.state == .completed)
            #expect(done.styles.map(\.done) == [6, 6, 6])
            for style in ["illustration", "clear", "consistent"] {
                for beat in ["1.1", "1.2", "1.3"] {
                    let file = sandbox.root.appendingPathComponent("film/generated_images/\(style)/Shot_1/Beat_\(beat).png")
                    #expect(FileManager.default.fileExists(atPath: file.path), "\(file.path)")
                }
            }
            let doneBeats = events.filter { if case .beat(let beat) = $0.kind { return beat.state == .done } else { return false } }
            #expect(doneBeats.count == 18)
            // A second start of the same storyboard is a resume: everything already done.
            let again = try await collect(try await client.startGeneration(
                StartGenerationRequest(projectDir: "film", storyboard: sampleStoryboard(shots: 2, beats: 3))))
            guard case .accepted(let resumed)? = again.first?.kind else { return }
            #expect(resumed.resumed == 18)
            #expect(finished(again)?.styles.map(\.skipped) == [6, 6, 6])
        }
    }

    @Test("detach, then watch with after_seq: nothing lost, nothing repeated")
    func detachThenWatch() async throws {
        let sandbox = try ServiceSandbox()
        defer { sandbox.remove() }
        try sandbox.project("film")
        try await withGenerationServer(sandbox) { client, _ in
            let first = try await collect(try await client.startGeneration(
                StartGenerationRequest(projectDir: "film", storyboard: sampleStoryboard(shots: 2, beats: 4), detach: true)))
            #expect(first.count == 1)
            let jobID = try #require(first.first?.jobID)
            // Read a few live events, drop the stream, then reattach after the last one seen.
            var seen = first
            let stream = try await client.watchJob(jobID, afterSeq: 1)
            for try await event in stream {
                seen.append(event)
                if seen.count >= 6 { break }
            }
            let rest = try await collect(try await client.watchJob(jobID, afterSeq: seen.last!.seq))
            let all = seen + rest
            expectConsecutive(all, from: 1)
            #expect(finished(all)?.state == .completed)
        }
    }

    @Test("a client that disconnects mid-job leaves the job running; another connection reattaches")
    func disconnectAndReattach() async throws {
        let sandbox = try ServiceSandbox()
        defer { sandbox.remove() }
        try sandbox.project("film")
        try await withGenerationServer(sandbox) { client, port in
            let other = try await ImageGenerationClient.connect(host: "127.0.0.1", port: port)
            var jobID = ""
            var lastSeq: UInt64 = 0
            for try await event in try await other.startGeneration(
                StartGenerationRequest(projectDir: "film", storyboard: sampleStoryboard(shots: 3, beats: 3)))
            {
                jobID = event.jobID
                lastSeq = event.seq
                if event.seq >= 5 { break }
            }
            other.close()
            let rest = try await collect(try await client.watchJob(jobID, afterSeq: lastSeq))
            expectConsecutive(rest, from: lastSeq + 1)
            #expect(finished(rest)?.state == .completed)
        }
    }

    @Test("cancel stops the job; pause holds it and resume lets it finish")
    func cancelPauseResume() async throws {
        let sandbox = try ServiceSandbox()
        defer { sandbox.remove() }
        try sandbox.project("a")
        try sandbox.project("b")
        try await withGenerationServer(sandbox, latency: .milliseconds(100)) { client, _ in
            let a = try await collect(try await client.startGeneration(
                StartGenerationRequest(projectDir: "a", storyboard: sampleStoryboard(shots: 4, beats: 5), detach: true)))
            let jobA = a[0].jobID
            let cancelled = try await client.cancelGeneration(jobA)
            #expect(cancelled.state == .cancelled)
            let status = try await client.getStatus(.jobID(jobA))
            #expect(status.state == .cancelled)
            #expect(status.styles.allSatisfy { $0.completed < 20 })

            let b = try await collect(try await client.startGeneration(
                StartGenerationRequest(projectDir: "b", storyboard: sampleStoryboard(shots: 3, beats: 8), detach: true)))
            let jobB = b[0].jobID
            #expect(try await client.pauseGeneration(jobB).state == .paused)
            try await Task.sleep(for: .milliseconds(400))
            let held = try await client.getStatus(.jobID(jobB))
            #expect(held.state == .paused)
            let doneWhilePaused = held.styles.map(\.completed)
            try await Task.sleep(for: .milliseconds(300))
            #expect(try await client.getStatus(.jobID(jobB)).styles.map(\.completed) == doneWhilePaused, "no new images while paused")
            #expect(try await client.resumeGeneration(jobB).state == .running)
            let rest = try await collect(try await client.watchJob(jobB, afterSeq: 0))
            #expect(finished(rest)?.state == .completed)
            await expectCode(.failedPrecondition) { _ = try await client.pauseGeneration(jobB) }
        }
    }

    @Test("a watcher sees each pause and resume announced once; repeating one announces nothing")
    func pauseAndResumeAnnouncedOnce() async throws {
        let sandbox = try ServiceSandbox()
        defer { sandbox.remove() }
        try sandbox.project("film")
        // An image takes a minute: the job is still running at every step below.
        try await withGenerationServer(sandbox, latency: .seconds(60)) { client, _ in
            let first = try await collect(try await client.startGeneration(
                StartGenerationRequest(projectDir: "film", storyboard: sampleStoryboard(shots: 1, beats: 3), detach: true)))
            let jobID = try #require(first.first?.jobID)
            #expect(try await client.pauseGeneration(jobID).state == .paused)
            #expect(try await client.pauseGeneration(jobID).state == .paused)
            #expect(try await client.resumeGeneration(jobID).state == .running)
            #expect(try await client.resumeGeneration(jobID).state == .running)
            _ = try await client.cancelGeneration(jobID)
            let events = try await collect(try await client.watchJob(jobID, afterSeq: 0))
            let messages = events.compactMap { if case .message(let text) = $0.kind { text } else { nil } }
            #expect(messages.filter { $0.hasPrefix("paused") }.count == 1, "\(messages)")
            #expect(messages.filter { $0.hasPrefix("resumed") }.count == 1, "\(messages)")
            #expect(finished(events)?.state == .cancelled)
        }
    }

    @Test("idempotent start, attach to the same work, conflicting start refused")
    func idempotencyAndConflicts() async throws {
        let sandbox = try ServiceSandbox()
        defer { sandbox.remove() }
        try sandbox.project("film")
        // An image takes a minute: the job cannot finish before the pause below, however slow the
        // machine (at 50 ms a loaded machine sometimes finished it first, and the later starts
        // rightly made a new job).
        try await withGenerationServer(sandbox, latency: .seconds(60)) { client, _ in
            let board = sampleStoryboard(shots: 2, beats: 5)
            let first = try await collect(try await client.startGeneration(
                StartGenerationRequest(projectDir: "film", storyboard: board, detach: true, requestID: "req-1")))
            let jobID = first[0].jobID
            // Paused, the job stays active for as long as the test needs.
            _ = try await client.pauseGeneration(jobID)
            let repeated = try await collect(try await client.startGeneration(
                StartGenerationRequest(projectDir: "film", storyboard: board, detach: true, requestID: "req-1")))
            #expect(repeated[0].jobID == jobID)
            let attached = try await collect(try await client.startGeneration(
                StartGenerationRequest(projectDir: "./film/", storyboard: board, detach: true)))
            #expect(attached[0].jobID == jobID)
            guard case .accepted(let accepted)? = attached[0].kind else { return }
            #expect(accepted.attached)
            let error = await expectCode(.failedPrecondition) {
                _ = try await collect(try await client.startGeneration(
                    StartGenerationRequest(projectDir: "film", storyboard: sampleStoryboard(shots: 1, beats: 1, prompt: "other"))))
            }
            #expect(error?.message.contains(jobID) == true)
            #expect(try await client.listJobs().count == 1)
            _ = try await client.cancelGeneration(jobID)
        }
    }

    @Test("the same start from many clients at once: one job, every caller gets its accepted event", arguments: [false, true])
    func simultaneousStartsOfTheSameWork(sameRequestID: Bool) async throws {
        let sandbox = try ServiceSandbox()
        defer { sandbox.remove() }
        try sandbox.project("film")
        // An image takes a minute: the job is still running when the last caller arrives, however
        // slow the machine.
        try await withGenerationServer(sandbox, latency: .seconds(60)) { _, port in
            let board = sampleStoryboard(shots: 2, beats: 5)
            let callers = 16
            var clients: [ImageGenerationClient] = []
            defer { for client in clients { client.close() } }
            for _ in 0..<callers { clients.append(try await ImageGenerationClient.connect(host: "127.0.0.1", port: port)) }
            // Callers arriving while the first is still being admitted (progress files read, state
            // saved) attach to a job whose accepted event is not published yet: they must wait for it.
            let accepted = try await withThrowingTaskGroup(of: (String, Bool).self) { group in
                for client in clients {
                    group.addTask {
                        let events = try await collect(try await client.startGeneration(
                            StartGenerationRequest(
                                projectDir: "film", storyboard: board, detach: true, requestID: sameRequestID ? "same" : "")))
                        guard case .accepted(let accepted)? = events.first?.kind else { return ("", false) }
                        return (events[0].jobID, accepted.attached)
                    }
                }
                return try await group.reduce(into: [(String, Bool)]()) { $0.append($1) }
            }
            #expect(accepted.count == callers)
            #expect(Set(accepted.map(\.0)).count == 1 && accepted[0].0 != "", "\(accepted)")
            #expect(accepted.filter { !$0.1 }.count == 1, "exactly one caller started the job")
            _ = try await clients[0].cancelGeneration(accepted[0].0)
        }
    }

    @Test("bad requests are refused with the field and changes nothing", arguments: [
        ("../outside", RPCError.Code.permissionDenied), ("/etc", .permissionDenied), ("", .invalidArgument),
        ("missing", .notFound),
    ])
    func badProjects(projectDir: String, code: RPCError.Code) async throws {
        let sandbox = try ServiceSandbox()
        defer { sandbox.remove() }
        try await withGenerationServer(sandbox) { client, _ in
            await expectCode(code) {
                _ = try await collect(try await client.startGeneration(
                    StartGenerationRequest(projectDir: projectDir, storyboard: sampleStoryboard(shots: 1, beats: 1))))
            }
            let jobs = try await client.listJobs()
            #expect(jobs.isEmpty)
        }
    }

    @Test("invalid storyboards and styles are refused naming what is wrong")
    func badStoryboards() async throws {
        let sandbox = try ServiceSandbox()
        defer { sandbox.remove() }
        try sandbox.project("film")
        try sandbox.project("empty-project")
        try await withGenerationServer(sandbox) { client, _ in
            var board = sampleStoryboard(shots: 3, beats: 2)
            board.shots[2].beats[1].prompt = ""
            let empty = await expectCode(.invalidArgument) {
                _ = try await collect(try await client.startGeneration(StartGenerationRequest(projectDir: "film", storyboard: board)))
            }
            #expect(empty?.message.contains("3.2") == true)
            let style = await expectCode(.invalidArgument) {
                _ = try await collect(try await client.startGeneration(
                    StartGenerationRequest(projectDir: "film", storyboard: sampleStoryboard(shots: 1, beats: 1), styles: ["watercolour"])))
            }
            #expect(style?.message.contains("watercolour") == true)
            let none = await expectCode(.failedPrecondition) {
                _ = try await collect(try await client.startGeneration(StartGenerationRequest(projectDir: "empty-project")))
            }
            #expect(none?.message.contains("storyboard.json") == true)
            await expectCode(.notFound) { _ = try await client.getStatus(.jobID("job-nope")) }
            await expectCode(.notFound) { _ = try await collect(try await client.watchJob("job-nope")) }
            let jobs = try await client.listJobs()
            #expect(jobs.isEmpty)
        }
    }

    @Test("storyboard.json in the project is used when the request has none; GetStatus reads the disk with no job")
    func storyboardFileAndStatusFromDisk() async throws {
        let sandbox = try ServiceSandbox()
        defer { sandbox.remove() }
        try sandbox.project("film", storyboard: #"{"shots":[{"id":"1","beats":[{"id":"1.1","prompt":"a fox","transition":"hard_cut"},{"id":"1.2","prompt":"the fox runs","transition":"continue"}]}]}"#)
        try await withGenerationServer(sandbox, latency: .milliseconds(1)) { client, _ in
            let before = try await client.getStatus(.projectDir("film"))
            #expect(before.state == .unspecified)
            #expect(before.styles.allSatisfy { $0.total == 2 && $0.completed == 0 })
            let events = try await collect(try await client.startGeneration(StartGenerationRequest(projectDir: "film")))
            #expect(finished(events)?.state == .completed)
            let after = try await client.getStatus(.projectDir("film"))
            #expect(after.state == .completed)
            #expect(after.jobID.isEmpty)
            #expect(after.styles.allSatisfy { $0.completed == 2 && $0.percent == 100 })
            let byJob = try await client.getStatus(.jobID(events[0].jobID), includeBeats: true)
            #expect(byJob.beats.count == 6)
            #expect(byJob.beats.allSatisfy { $0.state == .done && $0.bytes > 0 && $0.sha256.count == 64 })
        }
    }

    @Test("a watch after_seq beyond the job's events answers OUT_OF_RANGE")
    func outOfRange() async throws {
        let sandbox = try ServiceSandbox()
        defer { sandbox.remove() }
        try sandbox.project("film")
        try await withGenerationServer(sandbox, latency: .milliseconds(1)) { client, _ in
            let events = try await collect(try await client.startGeneration(
                StartGenerationRequest(projectDir: "film", storyboard: sampleStoryboard(shots: 1, beats: 1))))
            await expectCode(.outOfRange) { _ = try await collect(try await client.watchJob(events[0].jobID, afterSeq: 10_000)) }
        }
    }

    @Test("a watcher that stops reading is cut off naming the seq to resume after; it slows nobody, and resuming loses nothing")
    func stalledWatcher() async throws {
        let sandbox = try ServiceSandbox()
        defer { sandbox.remove() }
        try sandbox.project("film")
        try await withGenerationServer(sandbox, latency: .zero, watcherBuffer: 64, durability: .none) { client, port in
            let first = try await collect(try await client.startGeneration(
                StartGenerationRequest(projectDir: "film", storyboard: sampleStoryboard(shots: 20, beats: 25), detach: true)))
            let jobID = first[0].jobID
            // A connection that asks to watch and then reads nothing until the job is over.
            let collector = ByteCollector()
            let stalled = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .channelOption(.autoRead, value: false)
                .channelOption(.socketOption(.so_rcvbuf), value: 2048)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(collector) }
                }
                .connect(host: "127.0.0.1", port: port).get()
            defer { stalled.close(promise: nil) }
            let start = Frame(callID: 1, kind: .start(CallStart(
                method: ImageGenerationMethod.watchJob.rawValue, request: WatchJobRequest(jobID: jobID).serializedBytes())))
            try await stalled.writeAndFlush(ByteBuffer(bytes: start.framedBytes())).get()

            // A healthy watcher, reattaching like the CLI does if a burst of events outruns it.
            let started = ContinuousClock.now
            var healthy: [ProgressEvent] = []
            while finished(healthy) == nil {
                do {
                    for try await event in try await client.watchJob(jobID, afterSeq: healthy.last?.seq ?? 0) {
                        healthy.append(event)
                    }
                } catch let error as RPCError where error.code == .resourceExhausted {
                    #expect(error.message.contains("after_seq=\(healthy.last?.seq ?? 0)"), "\(error.message)")
                }
            }
            expectConsecutive(healthy, from: 1)
            #expect(finished(healthy)?.state == .completed)
            #expect(ContinuousClock.now - started < .seconds(30))

            // Now read what the stalled watcher was sent: events 1…N in order, then RESOURCE_EXHAUSTED.
            try await stalled.setOption(.autoRead, value: true).get()
            var frames: [Frame] = []
            let deadline = ContinuousClock.now + .seconds(10)
            while ContinuousClock.now < deadline {
                frames = try collector.frames()
                if case .status? = frames.last?.kind { break }
                try await Task.sleep(for: .milliseconds(20))
            }
            guard case .status(let status)? = frames.last?.kind else {
                Issue.record("the stalled watcher got no status; \(frames.count) frames")
                return
            }
            if status.code == 0 {
                // The kernel's socket buffers held every event: nothing to cut off on this machine.
                #expect(frames.count - 1 == healthy.count)
                return
            }
            #expect(status.code == RPCError.Code.resourceExhausted.rawValue, "\(status)")
            let delivered = try frames.dropLast().map { frame -> ProgressEvent in
                guard case .message(let bytes) = frame.kind else { throw RPCError(.internalError, "not a message") }
                return try ProgressEvent(serializedBytes: bytes)
            }
            expectConsecutive(delivered, from: 1)
            let resumeAfter = delivered.last?.seq ?? 0
            #expect(status.message.contains("after_seq=\(resumeAfter)"), "\(status.message)")
            #expect(resumeAfter < healthy.last!.seq, "the stalled watcher was cut off before the end")
            // Resuming from there gives the rest, with nothing lost or repeated.
            let rest = try await collect(try await client.watchJob(jobID, afterSeq: resumeAfter))
            expectConsecutive(delivered + rest, from: 1)
            #expect(finished(rest)?.state == .completed)
        }
    }

    @Test("a server restart resumes the job that was running, under the same id")
    func restartResumes() async throws {
        let sandbox = try ServiceSandbox()
        defer { sandbox.remove() }
        try sandbox.project("film")
        let board = sampleStoryboard(shots: 3, beats: 4)
        // The first server cannot finish the job (a minute per image), however slow the machine is
        // to stop it: it stops once the job is under way.
        let jobID = try await withGenerationServer(sandbox, latency: .seconds(60)) { client, _ in
            var jobID = ""
            for try await event in try await client.startGeneration(StartGenerationRequest(projectDir: "film", storyboard: board)) {
                jobID = event.jobID
                if case .beat(let beat) = event.kind, beat.state == .generating { break }
            }
            return jobID
        }
        // The first server is gone (its task group cancelled: a shutdown). A new one resumes the job.
        try await withGenerationServer(sandbox, latency: .milliseconds(1)) { client, _ in
            var status = try await client.getStatus(.jobID(jobID))
            let deadline = ContinuousClock.now + .seconds(20)
            while status.state != .completed, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(50))
                status = try await client.getStatus(.jobID(jobID))
            }
            #expect(status.state == .completed)
            #expect(status.styles.allSatisfy { $0.completed == 12 })
        }
    }
}

extension GenerationServiceTests {
    /// With a reservation of 1 every event waits for the state file to reserve its seq (the run
    /// never has seqs to spare); with 8 the reservation is mostly extended ahead of need.
    @Test("seqs of a job increase across restarts: each resumed run starts beyond its reservation; an earlier run's after_seq is refused naming where to resume",
          arguments: [UInt64(1), 8])
    func seqsIncreaseAcrossRestarts(reservation: UInt64) async throws {
        let sandbox = try ServiceSandbox()
        defer { sandbox.remove() }
        try sandbox.project("film")
        let board = sampleStoryboard(shots: 4, beats: 4)
        // A small reservation, so that runs extend it many times (each extension rewrites the state file).
        let stateFile = sandbox.state.appendingPathComponent("jobs.json")

        /// The seq reservation the state file holds for `jobID`.
        func reservedThrough(_ jobID: String) throws -> UInt64 {
            let entries = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: stateFile)) as? [[String: Any]])
            let entry = try #require(entries.first { $0["id"] as? String == jobID }, "job \(jobID) not in \(stateFile.path)")
            return try #require((entry["seqReservedThrough"] as? NSNumber)?.uint64Value)
        }

        // Run 1: a fresh job, seqs from 1; the server stops a few events in, long before the job's end:
        // an image takes a minute, so no run but the last can finish, however slow the machine is
        // to stop it (at 200 ms a loaded machine sometimes finished the job first, and it left the
        // state file). Its first 8 events (accepted, styles, generating) come at once.
        let slow = Duration.seconds(60)
        let firstRun = try await withGenerationServer(sandbox, latency: slow, seqReservation: reservation) { client, _ in
            var events: [ProgressEvent] = []
            for try await event in try await client.startGeneration(StartGenerationRequest(projectDir: "film", storyboard: board)) {
                events.append(event)
                if events.count >= 8 { break }
            }
            return events
        }
        expectConsecutive(firstRun, from: 1)
        let jobID = try #require(firstRun.first?.jobID)
        var runs = [firstRun]

        // Runs 2 and 3: each resumed run's seqs start right after the reservation saved by the run before.
        for run in 2...3 {
            let reserved = try reservedThrough(jobID)
            let previous = try #require(runs.last?.last?.seq)
            #expect(reserved >= previous, "run \(run - 1) issued seq \(previous) beyond its reservation \(reserved)")
            let last = run == 3
            let events = try await withGenerationServer(
                sandbox, latency: last ? .milliseconds(1) : slow, seqReservation: reservation
            ) { client, _ in
                var events: [ProgressEvent] = []
                for try await event in try await client.watchJob(jobID, afterSeq: 0) {
                    events.append(event)
                    if !last && events.count >= 8 { break }
                }
                let first = try #require(events.first?.seq)
                // A watcher of an earlier run reattaching with its last seq is told, not handed this run's later events.
                for earlier in [UInt64(1), previous] where earlier < first - 1 {
                    let error = await expectCode(.outOfRange) { _ = try await collect(try await client.watchJob(jobID, afterSeq: earlier)) }
                    let message = error?.message ?? ""
                    #expect(message.contains("server restarted"), "\(message)")
                    #expect(message.contains("start at seq \(first)") && message.contains("after_seq=\(first - 1)"), "\(message)")
                }
                // From just before this run, or from the start (0), it replays this run from its first event.
                for after in [first - 1, 0] {
                    var iterator = try await client.watchJob(jobID, afterSeq: after).makeAsyncIterator()
                    #expect(try await iterator.next()?.seq == first, "after_seq \(after)")
                }
                await expectCode(.outOfRange) { _ = try await collect(try await client.watchJob(jobID, afterSeq: UInt64.max / 2)) }
                return events
            }
            let first = try #require(events.first?.seq)
            #expect(first == reserved + 1, "run \(run) starts at \(first), after the reservation \(reserved)")
            #expect(runs.allSatisfy { $0.allSatisfy { $0.seq < first } }, "run \(run) reuses a seq of an earlier run")
            expectConsecutive(events, from: first)
            let resumed = events.contains { event in
                if case .message(let text) = event.kind { return text.contains("start at seq \(first)") }
                return false
            }
            #expect(resumed, "run \(run) says where its events start")
            if last { #expect(finished(events)?.state == .completed) }
            runs.append(events)
        }
        let all = runs.flatMap { $0 }.map(\.seq)
        #expect(all == all.sorted() && Set(all).count == all.count, "seqs across runs: \(all)")
    }
}

/// Collects the bytes a connection receives.
final class ByteCollector: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer
    private let bytes = Mutex([UInt8]())

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        let received = buffer.readBytes(length: buffer.readableBytes) ?? []
        bytes.withLock { $0 += received }
    }

    /// The whole frames received so far.
    func frames() throws -> [Frame] {
        try FrameSplitting.frames(in: bytes.withLock { $0 })
    }
}
