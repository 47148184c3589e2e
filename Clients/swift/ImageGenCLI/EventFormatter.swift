import Foundation
public import ImageGenWire

/// One line per event: plain text for logs and pipes, or JSON for programs (`--json`).
public enum EventFormatter {
    /// e.g. `#12 beat clear 1/1.2 done attempt=1 key=clear#1…abcd bytes=20480 path=…`.
    public static func plainLine(_ event: ProgressEvent) -> String {
        let prefix = "#\(event.seq)"
        switch event.kind {
        case .accepted(let accepted):
            let styles = accepted.styles.map { "\($0.style)=\($0.completed)/\($0.total)" }.joined(separator: " ")
            return "\(prefix) accepted job=\(event.jobID) resumed=\(accepted.resumed)\(accepted.attached ? " attached" : "") \(styles)"
        case .beat(let beat):
            var text = "\(prefix) beat \(beat.style) \(beat.shotID)/\(beat.beatID) \(name(beat.state))"
            if beat.attempt > 0 { text += " attempt=\(beat.attempt)" }
            if !beat.keyLabel.isEmpty { text += " key=\(beat.keyLabel)" }
            if beat.bytes > 0 { text += " bytes=\(beat.bytes)" }
            if !beat.outputPath.isEmpty { text += " path=\(beat.outputPath)" }
            if !beat.batch.isEmpty { text += " batch=\(quoted(beat.batch))" }
            if !beat.error.isEmpty { text += " error=\(quoted(beat.error))" }
            return text
        case .style(let progress):
            return "\(prefix) style \(progress.style) \(progress.completed)/\(progress.total) "
                + String(format: "%.1f%%", progress.percent)
                + " failed=\(progress.failed) in_flight=\(progress.inFlight) keys_cooling=\(progress.keysCooling)"
                + " keys_disabled=\(progress.keysDisabled)"
                + (progress.inBatch > 0 ? " in_batch=\(progress.inBatch)" : "")
                + (progress.batch.map { " batch_wave=\($0.wave) batch_state=\($0.state)" } ?? "")
        case .key(let key):
            var text = "\(prefix) key \(quotaLine(key)) key=\(key.keyLabel)"
            if !key.reason.isEmpty { text += " reason=\(quoted(key.reason))" }
            return text
        case .message(let message):
            return "\(prefix) message \(quoted(message))"
        case .finished(let finished):
            let styles = finished.styles.map { "\($0.style)=\($0.done)/\($0.total)" + ($0.failed > 0 ? " (\($0.failed) failed)" : "") }
                .joined(separator: " ")
            return "\(prefix) finished \(name(finished.state)) \(styles)"
                + (finished.message.isEmpty ? "" : " message=\(quoted(finished.message))")
        case nil:
            return "\(prefix) (empty event)"
        }
    }

    /// What a key event says of its quota: "clear: project film-a, gemini-3.1-flash-image cooling 12 s"
    /// (style, then the project and model the key spends, its state and, cooling, for how long).
    public static func quotaLine(_ key: KeyEvent) -> String {
        var text = key.style
        if !key.project.isEmpty { text += ": project \(key.project)" + (key.model.isEmpty ? "" : ", \(key.model)") }
        text += " \(name(key.state))"
        if key.coolDownMs > 0 { text += " \(seconds(key.coolDownMs))" }
        return text
    }

    /// "12 s", "1.5 s", "0.25 s".
    static func seconds(_ milliseconds: UInt64) -> String {
        if milliseconds % 1000 == 0 { return "\(milliseconds / 1000) s" }
        var text = String(format: "%.3f", Double(milliseconds) / 1000)
        while text.hasSuffix("0") { text.removeLast() }
        return text + " s"
    }

    /// The event as one line of JSON with stable key order.
    public static func jsonLine(_ event: ProgressEvent) -> String {
        var object: [String: Any] = ["seq": event.seq, "job_id": event.jobID, "time_unix_ms": event.timeUnixMs]
        switch event.kind {
        case .accepted(let accepted):
            object["kind"] = "accepted"
            object["accepted"] = [
                "resumed": accepted.resumed, "attached": accepted.attached,
                "styles": accepted.styles.map(json),
            ] as [String: Any]
        case .beat(let beat):
            object["kind"] = "beat"
            object["beat"] = [
                "style": beat.style, "shot_id": beat.shotID, "beat_id": beat.beatID, "state": name(beat.state),
                "attempt": beat.attempt, "key_label": beat.keyLabel, "error": beat.error,
                "output_path": beat.outputPath, "bytes": beat.bytes, "sha256": beat.sha256,
            ] as [String: Any]
        case .style(let progress):
            object["kind"] = "style"
            object["style"] = json(progress)
        case .key(let key):
            object["kind"] = "key"
            object["key"] = [
                "style": key.style, "key_label": key.keyLabel, "state": name(key.state),
                "cool_down_ms": key.coolDownMs, "reason": key.reason, "project": key.project, "model": key.model,
            ] as [String: Any]
        case .message(let message):
            object["kind"] = "message"
            object["message"] = message
        case .finished(let finished):
            object["kind"] = "finished"
            object["finished"] = [
                "state": name(finished.state), "message": finished.message, "usage": json(finished.usage),
                "styles": finished.styles.map { summary in
                    [
                        "style": summary.style, "total": summary.total, "done": summary.done, "failed": summary.failed,
                        "skipped": summary.skipped, "duration_ms": summary.durationMs, "error": summary.error,
                        "usage": json(summary.usage),
                    ] as [String: Any]
                },
            ] as [String: Any]
        case nil:
            object["kind"] = "unknown"
        }
        return jsonText(object)
    }

    /// A job status as JSON (for `imagegen status --json`).
    public static func jsonLine(_ status: JobStatus) -> String {
        jsonText([
            "job_id": status.jobID, "project_dir": status.projectDir, "state": name(status.state),
            "message": status.message, "coordination_problem": status.coordinationProblem, "last_seq": status.lastSeq,
            "created_unix_ms": status.createdUnixMs,
            "started_unix_ms": status.startedUnixMs, "finished_unix_ms": status.finishedUnixMs,
            "usage": json(status.usage), "styles": status.styles.map(json),
            "beats": status.beats.map { beat in
                [
                    "style": beat.style, "shot_id": beat.shotID, "beat_id": beat.beatID, "state": name(beat.state),
                    "attempts": beat.attempts, "key_label": beat.keyLabel, "error": beat.error,
                    "output_path": beat.outputPath, "bytes": beat.bytes, "sha256": beat.sha256, "lane": beat.lane,
                    "batch": beat.batch, "billed_requests": beat.billedRequests, "estimated_cost_usd": beat.estimatedCostUSD,
                ] as [String: Any]
            },
        ])
    }

    public static func jsonLine(_ server: ServerInfo, coordinated: Bool) -> String {
        jsonText([
            "server_id": server.serverID, "address": server.address, "seen_unix_ms": server.seenUnixMs,
            "this_server": server.thisServer, "coordinated": coordinated,
            "jobs": server.jobs.map { job in
                ["job_id": job.jobID, "project_dir": job.projectDir, "lease_expires_unix_ms": job.leaseExpiresUnixMs] as [String: Any]
            },
        ])
    }

    static func json(_ progress: StyleProgress) -> [String: Any] {
        var object: [String: Any] = [
            "style": progress.style, "total": progress.total, "completed": progress.completed,
            "failed": progress.failed, "in_flight": progress.inFlight, "percent": progress.percent,
            "keys_total": progress.keysTotal, "keys_cooling": progress.keysCooling,
            "keys_disabled": progress.keysDisabled, "in_batch": progress.inBatch,
        ]
        if let batch = progress.batch {
            object["batch"] = [
                "wave": batch.wave, "batches": batch.batches, "state": batch.state, "request_count": batch.requestCount,
                "succeeded": batch.succeeded, "failed": batch.failed, "pending": batch.pending,
            ] as [String: Any]
        }
        return object
    }

    static func json(_ usage: Usage) -> [String: Any] {
        [
            "requests": usage.requests, "images": usage.images, "wasted_billed_attempts": usage.wastedBilledAttempts,
            "unknown_outcome_attempts": usage.unknownOutcomeAttempts, "prompt_tokens": usage.promptTokens,
            "output_tokens": usage.outputTokens, "total_tokens": usage.totalTokens, "batch_requests": usage.batchRequests,
            "batch_images": usage.batchImages, "estimated_cost_usd": usage.estimatedCostUSD, "wasted_cost_usd": usage.wastedCostUSD,
        ]
    }

    static func jsonText(_ object: [String: Any]) -> String {
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }

    /// Lower-case names, as in the proto: "completed_with_errors", "generating", "cooling".
    public static func name(_ state: JobState) -> String { state.name }

    public static func name(_ state: BeatEvent.State) -> String {
        switch state {
        case .unspecified: "unspecified"
        case .queued: "queued"
        case .waiting: "waiting"
        case .generating: "generating"
        case .done: "done"
        case .failed: "failed"
        case .skipped: "skipped"
        case .retrying: "retrying"
        case .inBatch: "in_batch"
        }
    }

    public static func name(_ state: KeyEvent.State) -> String {
        switch state {
        case .unspecified: "unspecified"
        case .ready: "ready"
        case .cooling: "cooling"
        case .exhausted: "exhausted"
        case .disabled: "disabled"
        }
    }

    static func quoted(_ text: String) -> String {
        "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n") + "\""
    }
}
