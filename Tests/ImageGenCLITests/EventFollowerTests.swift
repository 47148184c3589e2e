import Foundation
@testable import ImageGenCLI
import ImageGenClient
import ImageGenRPC
import ImageGenWire
import Logging
import ImageGenTestSupport
import Synchronization
import Testing

/// `EventFollower` against a scripted server on a real socket: which calls it makes after each
/// answer, and how long it waits (the waits themselves: ``ReattachBackoffTests``). The follow of a
/// job that moves between real servers: "Coordination: starts and watchers across servers".
@Suite("EventFollower against a scripted server", .timeLimit(.minutes(1)), .hangWatchdog)
struct EventFollowerTests {
    /// One scripted answer: events then a status (nil: the stream ends), or a job status.
    enum Answer: Sendable {
        case events([UInt64], then: RPCError?)
        case status(lastSeq: UInt64)

        static func fails(_ code: RPCError.Code, _ message: String) -> Answer { .events([], then: RPCError(code, message)) }
    }

    /// Answers the n-th call with the n-th answer (then NOT_FOUND) and records each call:
    /// the method's name and, for a watch, its after_seq.
    final class Script: Sendable {
        private let state: Mutex<(answers: [Answer], calls: [String])>

        init(_ answers: [Answer]) { state = Mutex((answers, [])) }

        var calls: [String] { state.withLock { $0.calls } }

        func next(_ call: String) -> Answer? {
            state.withLock { state in
                state.calls.append(call)
                return state.answers.isEmpty ? nil : state.answers.removeFirst()
            }
        }

        var router: RPCRouter {
            var router = RPCRouter()
            router.registerServerStreaming(ImageGenerationMethod.watchJob.rawValue, WatchJobRequest.self, ProgressEvent.self) {
                request, _, writer in
                guard case .events(let seqs, let end)? = self.next("watch \(request.afterSeq)") else {
                    throw RPCError(.notFound, "script ended")
                }
                for seq in seqs {
                    let kind: ProgressEvent.Kind = seq == 5 ? .finished(JobFinished(state: .completed)) : .message("event \(seq)")
                    try await writer.send(ProgressEvent(seq: seq, jobID: "j1", kind: kind))
                }
                if let end { throw end }
            }
            router.registerUnary(ImageGenerationMethod.getStatus.rawValue, GetStatusRequest.self) { _, _ in
                switch self.next("status") {
                case .status(let lastSeq)?: return JobStatus(jobID: "j1", lastSeq: lastSeq)
                case .events(_, let error?)?: throw error
                default: throw RPCError(.notFound, "script ended")
                }
            }
            return router
        }
    }

    /// Follows job j1 from `afterSeq` on a server answering `script`; the seqs shown, the notes,
    /// and how it ended (or the error it ended with).
    func follow(_ script: Script, afterSeq: UInt64, window: Duration = .seconds(120)) async throws
        -> (seqs: [UInt64], notes: String, error: RPCError?)
    {
        var logger = Logger(label: "scripted-server")
        logger.logLevel = .critical
        let server = RPCServer(configuration: RPCServerConfiguration(), router: script.router, logger: logger)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.run() }
            defer { group.cancelAll() }
            let client = try await ImageGenerationClient.connect(host: "127.0.0.1", port: try await server.listeningAddress.port)
            defer { client.close() }
            let lines = Mutex<[String]>([])
            let notes = Mutex("")
            let follower = EventFollower(
                client: client, mode: .json, write: { text in lines.withLock { $0.append(text) } },
                note: { text in notes.withLock { $0 += text } }, reattachWindow: window)
            var failure: RPCError?
            do {
                _ = try await follower.follow(try await client.watchJob("j1", afterSeq: afterSeq), watched: ("j1", afterSeq))
            } catch let error as RPCError {
                failure = error
            }
            let seqs = CLIProcessTests.jsonLines(lines.withLock { $0.joined() }).compactMap { ($0["seq"] as? NSNumber)?.uint64Value }
            return (seqs, notes.withLock { $0 }, failure)
        }
    }

    @Test("refused before any event: waited out with growing waits; cut off after events: watched again at once")
    func refusalsBackOffFallingBehindDoesNot() async throws {
        let script = Script([
            .fails(.resourceExhausted, "too many watchers"), .fails(.resourceExhausted, "too many watchers"),
            .events([1, 2], then: RPCError(.resourceExhausted, "fell behind")), .events([3, 4, 5], then: nil),
        ])
        let started = ContinuousClock.now
        let followed = try await follow(script, afterSeq: 0)
        #expect(followed.error == nil)
        #expect(followed.seqs == [1, 2, 3, 4, 5])
        // The two refusals were waited out (250 ms, then 500 ms); falling behind was not.
        #expect(ContinuousClock.now - started >= .milliseconds(750))
        #expect(script.calls == ["watch 0", "watch 0", "watch 0", "watch 2"])
    }

    @Test("refusals that outlast the reattach window end the follow with RESOURCE_EXHAUSTED and a note")
    func refusalsOutlastingTheWindowAreThrown() async throws {
        let script = Script(Array(repeating: .fails(.resourceExhausted, "too many watchers"), count: 50))
        let followed = try await follow(script, afterSeq: 0, window: .milliseconds(500))
        #expect(followed.error?.code == .resourceExhausted)
        #expect(followed.notes.contains("job j1 was still refused after watching it again"))
        #expect(script.calls.count < 6)
    }

    @Test("an UNAVAILABLE status while following the current run from its start is waited out, then the rewind is tried again")
    func unavailableWhileRewindingIsWaitedOut() async throws {
        let script = Script([
            .fails(.outOfRange, "seq 40 is of an earlier run"), .fails(.unavailable, "job j1 is being taken over here"),
            .fails(.outOfRange, "seq 40 is of an earlier run"), .status(lastSeq: 90), .events([1, 2, 3, 4, 5], then: nil),
        ])
        let followed = try await follow(script, afterSeq: 40)
        #expect(followed.error == nil)
        #expect(followed.seqs == [1, 2, 3, 4, 5])
        #expect(script.calls == ["watch 40", "status", "watch 40", "status", "watch 0"])
        #expect(followed.notes.contains("following job j1 from the start of its current run"))
    }

    @Test("an OUT_OF_RANGE seq beyond the job's events is not rewound: it ends the follow")
    func aSeqBeyondTheJobIsThrown() async throws {
        let script = Script([.fails(.outOfRange, "seq 500 is beyond the job's events"), .status(lastSeq: 90)])
        let followed = try await follow(script, afterSeq: 500)
        #expect(followed.error?.code == .outOfRange)
        #expect(script.calls == ["watch 500", "status"])
    }
}
