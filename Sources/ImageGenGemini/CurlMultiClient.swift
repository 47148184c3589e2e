internal import CCurl
import Foundation
import Logging
import Synchronization

/// Runs many HTTP transfers at once on one dedicated I/O thread that drives `curl_multi_poll`.
///
/// Callers hand work and cancellations to the thread through a locked queue and wake it with
/// `curl_multi_wakeup` (the only multi call made off the thread). Every libcurl call on a handle
/// happens on the I/O thread; each transfer resumes its continuation exactly once.
final class CurlMultiClient: Sendable {
    /// Work waiting for the I/O thread.
    private struct Submission: Sendable {
        var id: UInt64
        var request: HTTPTransferRequest
        var continuation: CheckedContinuation<HTTPTransferResult, any Error>
    }

    private enum Lifecycle {
        case running
        case stopping
        case stopped
    }

    private struct State {
        var nextID: UInt64 = 1
        var submissions: [Submission] = []
        var cancellations: [UInt64] = []
        /// Submitted and not yet finished.
        var inFlight: Set<UInt64> = []
        var lifecycle = Lifecycle.running
        var exitWaiters: [CheckedContinuation<Void, Never>] = []
    }

    // ThreadSanitizer on Linux does not see Synchronization.Mutex's futex and reports its critical
    // sections as races; with an NSLock in its place the whole test suite runs TSan-clean.
    private let state = Mutex(State())
    /// The multi handle: created here, used by the I/O thread, woken from any thread.
    nonisolated(unsafe) private let multi: UnsafeMutableRawPointer
    private let logger: Logger

    /// Numbers the clients of a process, for their I/O threads' names.
    private static let created = Mutex(0)
    /// The I/O thread's name, "imagegen-c" and a number (the kernel keeps 15 characters): one per client.
    let threadName: String

    /// Creates the multi handle and starts the I/O thread.
    init(logger: Logger) throws(CurlSetupError) {
        let initResult = ccurl_global_init_once()
        guard initResult == CURLE_OK else {
            throw CurlSetupError("curl_global_init failed: " + String(cString: curl_easy_strerror(initResult)))
        }
        guard let multi = curl_multi_init() else { throw CurlSetupError("curl_multi_init failed") }
        self.multi = multi
        self.logger = logger
        let number = Self.created.withLock { count in
            count += 1
            return count
        }
        let name = "imagegen-c" + String(number % 100_000)
        threadName = name
        let thread = Thread { [self] in
            Thread.current.name = name
            // Foundation does not pass the name to the kernel on Linux.
            _ = ccurl_set_current_thread_name(name)
            self.runLoop()
        }
        thread.start()
    }

    /// A fresh transfer identifier.
    func makeID() -> UInt64 {
        state.withLock { state in
            defer { state.nextID += 1 }
            return state.nextID
        }
    }

    /// Performs one transfer. Throws `CancellationError` when the task is cancelled (the transfer is
    /// aborted promptly) or the client shut down.
    func perform(_ request: HTTPTransferRequest) async throws -> HTTPTransferResult {
        let id = makeID()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<HTTPTransferResult, any Error>) in
                let accepted = state.withLock { state -> Bool in
                    // Checked under the lock: a cancellation handler that runs after this sees `inFlight`.
                    guard state.lifecycle == .running, !Task.isCancelled else { return false }
                    state.submissions.append(Submission(id: id, request: request, continuation: continuation))
                    state.inFlight.insert(id)
                    wake(state)
                    return true
                }
                if !accepted { continuation.resume(throwing: CancellationError()) }
            }
        } onCancel: {
            state.withLock { state in
                guard state.inFlight.contains(id) else { return }
                state.cancellations.append(id)
                wake(state)
            }
        }
    }

    /// Asks the I/O thread to stop (aborting transfers in flight) without waiting.
    func requestShutdown() {
        state.withLock { state in
            guard state.lifecycle == .running else { return }
            state.lifecycle = .stopping
            wake(state)
        }
    }

    /// Wakes the I/O thread out of `curl_multi_poll`. Called with the lock held, so the thread
    /// cannot free the multi handle meanwhile (it frees it under the same lock).
    private func wake(_ state: borrowing State) {
        guard state.lifecycle != .stopped else { return }
        _ = curl_multi_wakeup(multi)
    }

    /// Stops the I/O thread, aborting transfers in flight with `CancellationError`, and waits until
    /// the thread has cleaned up every handle and exited.
    func shutdown() async {
        requestShutdown()
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let done = state.withLock { state -> Bool in
                if state.lifecycle == .stopped { return true }
                state.exitWaiters.append(continuation)
                return false
            }
            if done { continuation.resume() }
        }
    }

    // MARK: - The I/O thread

    private func runLoop() {
        var byID: [UInt64: CurlTransfer] = [:]
        var byHandle: [UnsafeMutableRawPointer: CurlTransfer] = [:]

        func detach(_ transfer: CurlTransfer) {
            if let easy = transfer.easy {
                _ = curl_multi_remove_handle(multi, easy)
                byHandle[easy] = nil
            }
            byID[transfer.id] = nil
            transfer.cleanUp()
        }

        func finish(_ transfer: CurlTransfer, _ outcome: Result<HTTPTransferResult, any Error>) {
            detach(transfer)
            _ = state.withLock { $0.inFlight.remove(transfer.id) }
            transfer.continuation.resume(with: outcome)
        }

        while true {
            let (submissions, cancellations, stopping) = state.withLock { state in
                defer {
                    state.submissions.removeAll()
                    state.cancellations.removeAll()
                }
                return (state.submissions, state.cancellations, state.lifecycle != .running)
            }
            for submission in submissions {
                let transfer = CurlTransfer(id: submission.id, request: submission.request, continuation: submission.continuation)
                byID[transfer.id] = transfer
                if let failure = transfer.prepare() {
                    finish(transfer, .success(.transportFailure(code: -1, message: failure, requestSent: false, kind: .other)))
                    continue
                }
                guard let easy = transfer.easy else { continue }
                byHandle[easy] = transfer
                let added = curl_multi_add_handle(multi, easy)
                if added != CURLM_OK {
                    byHandle[easy] = nil
                    let message = "curl_multi_add_handle failed: " + String(cString: curl_multi_strerror(added))
                    finish(transfer, .success(.transportFailure(code: -1, message: message, requestSent: false, kind: .other)))
                }
            }
            for id in cancellations {
                if let transfer = byID[id] { finish(transfer, .failure(CancellationError())) }
            }
            if stopping {
                for transfer in Array(byID.values) { finish(transfer, .failure(CancellationError())) }
                break
            }

            var running: Int32 = 0
            _ = curl_multi_perform(multi, &running)
            var easy: UnsafeMutableRawPointer?
            var code = CURLE_OK
            while ccurl_multi_next_done(multi, &easy, &code) != 0 {
                guard let handle = easy, let transfer = byHandle[handle] else { continue }
                let result = transfer.result(code: code)
                finish(transfer, .success(result))
            }
            _ = curl_multi_poll(multi, nil, 0, 1000, nil)
        }

        let waiters = state.withLock { state in
            curl_multi_cleanup(multi)
            state.lifecycle = .stopped
            defer { state.exitWaiters.removeAll() }
            return state.exitWaiters
        }
        logger.debug("gemini curl I/O thread stopped")
        for waiter in waiters { waiter.resume() }
    }
}
