import ImageGenClient
import ImageGenRPC
import ImageGenWire

/// Reading a job's event stream to its end, and checking its sequence numbers.
enum EventStreams {
    /// Every event of `stream`, in order, until it ends.
    static func collect(_ stream: RPCResponseStream<ProgressEvent>) async throws -> [ProgressEvent] {
        var events: [ProgressEvent] = []
        for try await event in stream { events.append(event) }
        return events
    }

    /// nil when `events` are numbered `first`, `first + 1`, … without a gap; else the first gap found.
    static func gap(in events: [ProgressEvent], from first: UInt64 = 1) -> String? {
        var expected = first
        for event in events {
            if event.seq != expected { return "expected seq \(expected), got \(event.seq)" }
            expected += 1
        }
        return nil
    }

    /// The job's final event, if the stream ended with one.
    static func finished(_ events: [ProgressEvent]) -> JobFinished? {
        guard case .finished(let finished)? = events.last?.kind else { return nil }
        return finished
    }

    static func beatEvents(_ events: [ProgressEvent]) -> [BeatEvent] {
        events.compactMap { event -> BeatEvent? in
            guard case .beat(let beat)? = event.kind else { return nil }
            return beat
        }
    }

    static func keyEvents(_ events: [ProgressEvent]) -> [KeyEvent] {
        events.compactMap { event -> KeyEvent? in
            guard case .key(let key)? = event.kind else { return nil }
            return key
        }
    }

    /// Waits until the job of `projectDir` is no longer running (by project: survives restarts) and returns its status.
    static func waitForProject(
        _ client: ImageGenerationClient, projectDir: String, timeout: Duration
    ) async throws -> JobStatus {
        let deadline = ContinuousClock.now + timeout
        while true {
            let status = try await client.getStatus(.projectDir(projectDir))
            if ![.queued, .running, .paused].contains(status.state) || ContinuousClock.now > deadline { return status }
            try await Task.sleep(for: .milliseconds(100))
        }
    }
}
