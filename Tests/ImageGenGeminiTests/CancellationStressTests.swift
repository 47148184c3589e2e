import FakeGemini
import Foundation
import ImageGenEngine
import ImageGenGemini
import ImageGenTestSupport
import Synchronization
import Testing

/// Cancels engine jobs over and over, at random moments, while their requests to the real
/// `FakeGeminiServer` hang or answer slowly: before the job starts, while it plans, while a request
/// is being handed to libcurl, while it is on the wire, while a beat waits for its project's pace.
/// Every cancellation must end its job within ``bound``; a watchdog names the iteration that does
/// not (and its seed, to replay it) as soon as the bound passes, instead of leaving a silent hang.
@Suite("Cancellation stress over GeminiProvider and FakeGeminiServer", .timeLimit(.minutes(3)), .hangWatchdog)
struct CancellationStressTests {
    static let bound = Duration.seconds(2)
    static let secretA = "AIzaSyCANCEL-stress-key-alpha-zzA101"
    static let secretB = "AIzaSyCANCEL-stress-key-bravo-zzB102"

    /// When an iteration cancels its job.
    enum Moment: Sendable, CustomStringConvertible {
        /// Right after the job's task is added (it may not have started).
        case immediately
        /// After the job emitted this many events (queued, generating, done, …).
        case afterEvents(Int)
        /// After this many microseconds.
        case after(microseconds: Int)

        var description: String {
            switch self {
            case .immediately: return "immediately"
            case .afterEvents(let count): return "after \(count) events"
            case .after(let microseconds): return "after \(microseconds) µs"
            }
        }

        static func random(using random: inout some RandomNumberGenerator) -> Moment {
            switch Int.random(in: 0..<8, using: &random) {
            case 0: return .immediately
            case 1, 2, 3: return .afterEvents(Int.random(in: 1...24, using: &random))
            default: return .after(microseconds: Int.random(in: 0...25_000, using: &random))
            }
        }
    }

    /// What the watchdog knows about the iteration in progress.
    struct Watch {
        var iteration = 0
        var moment = ""
        var cancelledAt: ContinuousClock.Instant?
        var reported = false
    }

    final class Watchdog: Sendable {
        let state = Mutex(Watch())
    }

    @Test func everyCancellationEndsItsJobWithinTheBound() async throws {
        // IMAGEGEN_STRESS_SEED replays a run; otherwise every run tries new moments.
        var seeds = SystemRandomNumberGenerator()
        let seed = ProcessInfo.processInfo.environment["IMAGEGEN_STRESS_SEED"].flatMap { UInt64($0) } ?? seeds.next()
        var random = SplitMix64(seed: seed)
        let iterations = 300
        // Answers take 0-30 ms; a beat whose prompt carries [[fault:hang]] is never answered.
        let fake = FakeGeminiConfiguration(
            keys: [Self.secretA: "project-a", Self.secretB: "project-b"], jitter: .milliseconds(30))
        try await EngineRig.with(fake) { rig in
            // A request timeout well above the bound: a cancellation that does not reach libcurl
            // shows as an iteration that took ~10 s, never as a pass.
            let styles = [
                rig.style("hang", keys: [(Self.secretA, "project-a")], inFlight: 4, timeout: .seconds(10)),
                // 3000/min: beats also wait for their project's pace (PaceGate) when cancelled.
                rig.style("paced", keys: [(Self.secretB, "project-b")], rpm: 3000, inFlight: 2, timeout: .seconds(10)),
            ]
            let engine = rig.engine(styles)
            // One job first, untimed, to its first request: pays what only a process's first job
            // pays (libcurl handles, the queues' threads), and lets the run's start-up rush pass.
            do {
                let warmUp = rig.project.appendingPathComponent("warm-up", isDirectory: true)
                try FileManager.default.createDirectory(at: warmUp, withIntermediateDirectories: true)
                let job = try engine.makeJob(storyboard: try Self.board(iteration: 0, using: &random), project: warmUp)
                _ = await Self.cancel(job, at: .afterEvents(8)) {}
            }
            let watch = Watchdog()
            var durations: [Duration] = []
            var states: [JobOutcome: Int] = [:]

            await withTaskGroup(of: Void.self) { top in
                top.addTask {
                    // The watchdog: names a cancellation as soon as it exceeds the bound.
                    while !Task.isCancelled {
                        try? await Task.sleep(for: .milliseconds(50))
                        let late = watch.state.withLock { watch -> String? in
                            guard let at = watch.cancelledAt, !watch.reported, ContinuousClock.now - at > Self.bound else { return nil }
                            watch.reported = true
                            return "iteration \(watch.iteration) (cancelled \(watch.moment), seed \(seed))"
                        }
                        if let late { Issue.record("\(late): the job did not end within \(Self.bound) of its cancellation") }
                    }
                }
                defer { top.cancelAll() }
                for iteration in 1...iterations {
                    let moment = Moment.random(using: &random)
                    let board: ValidatedStoryboard
                    let job: ImageJob
                    do {
                        board = try Self.board(iteration: iteration, using: &random)
                        let project = rig.project.appendingPathComponent("run-\(iteration)", isDirectory: true)
                        try FileManager.default.createDirectory(at: project, withIntermediateDirectories: true)
                        job = try engine.makeJob(storyboard: board, project: project)
                    } catch {
                        Issue.record("iteration \(iteration): cannot set up: \(error)")
                        return
                    }
                    watch.state.withLock { $0 = Watch(iteration: iteration, moment: moment.description) }
                    let (summary, elapsed) = await Self.cancel(job, at: moment) {
                        watch.state.withLock { $0.cancelledAt = ContinuousClock.now }
                    }
                    watch.state.withLock { $0.cancelledAt = nil }
                    durations.append(elapsed)
                    states[summary.state, default: 0] += 1
                    // A hanging beat never completes: a job can only end cancelled.
                    #expect(summary.state == .cancelled, "iteration \(iteration) (cancelled \(moment), seed \(seed)): \(summary.state)")
                    if elapsed > Self.bound {
                        Issue.record("iteration \(iteration) (cancelled \(moment), seed \(seed)): cancellation took \(elapsed)")
                        return
                    }
                }
            }
            let sorted = durations.sorted()
            #expect(sorted.count == iterations)
            if let slowest = sorted.last {
                print("cancellation stress: \(sorted.count) jobs cancelled (seed \(seed)); median \(sorted[sorted.count / 2]), slowest \(slowest); states \(states)")
            }
            // Every aborted transfer closed its connection: none is left hanging on the fake.
            #expect(await GeminiTestSupport.eventually(timeout: .seconds(10)) { rig.server.openConnectionCount == 0 })
            // The requests really were on their way: the fake saw hanging ones.
            #expect(rig.server.requestLog().contains { $0.kind == "hang" })
        }
    }

    /// Runs `job` in a child task, cancels it at `moment` (calling `cancelling` just before), and
    /// returns its summary and how long it took to end after the cancellation.
    static func cancel(_ job: ImageJob, at moment: Moment, cancelling: @Sendable () -> Void) async
        -> (JobSummary, Duration)
    {
        await withTaskGroup(of: JobSummary.self) { group in
            group.addTask { await job.run() }
            switch moment {
            case .immediately:
                break
            case .afterEvents(let count):
                // Or after 30 ms, when every request in flight hangs and no more events come.
                await withTaskGroup(of: Void.self) { race in
                    race.addTask {
                        var seen = 0
                        for await _ in job.events {
                            seen += 1
                            if seen >= count { break }
                        }
                    }
                    race.addTask { try? await Task.sleep(for: .milliseconds(30)) }
                    await race.next()
                    race.cancelAll()
                }
            case .after(let microseconds):
                try? await Task.sleep(for: .microseconds(microseconds))
            }
            cancelling()
            let cancelledAt = ContinuousClock.now
            group.cancelAll()
            let summary = await group.next() ?? JobSummary(state: .failed, styles: [], duration: .zero)
            return (summary, ContinuousClock.now - cancelledAt)
        }
    }

    /// Six beats over two shots, at least one hanging; the rest answered after the fake's jitter.
    static func board(iteration: Int, using random: inout some RandomNumberGenerator) throws -> ValidatedStoryboard {
        let hanging = Int.random(in: 1...6, using: &random)
        var beats: [[ValidatedStoryboard.Beat]] = [[], []]
        for index in 1...6 {
            let hangs = index == hanging || Int.random(in: 0..<3, using: &random) == 0
            let prompt = "run \(iteration) beat \(index)" + (hangs ? " [[fault:hang]]" : "")
            beats[index <= 3 ? 0 : 1].append(ValidatedStoryboard.Beat(id: "\(index <= 3 ? 1 : 2).\(index)", prompt: prompt, transition: .cut))
        }
        return try ValidatedStoryboard(shots: [ValidatedStoryboard.Shot(id: "1", beats: beats[0]), ValidatedStoryboard.Shot(id: "2", beats: beats[1])])
    }
}
