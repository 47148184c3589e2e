public import ImageGenEngine

/// Runs an engine job to its end while collecting every event it emits, in order.
public func runJob(_ job: ImageJob) async -> (JobSummary, [EngineEvent]) {
    async let events: [EngineEvent] = {
        var all: [EngineEvent] = []
        for await event in job.events { all.append(event) }
        return all
    }()
    let summary = await job.run()
    return (summary, await events)
}

/// The beat updates among `events`, optionally only those of `style` and in `state`.
public func beatUpdates(_ events: [EngineEvent], style: String? = nil, state: BeatUpdate.State? = nil) -> [BeatUpdate] {
    events.compactMap { event in
        guard case .beat(let beat) = event else { return nil }
        if let style, beat.style != style { return nil }
        if let state, beat.state != state { return nil }
        return beat
    }
}

/// The key updates among `events`.
public func keyUpdates(_ events: [EngineEvent]) -> [KeyUpdate] {
    events.compactMap { if case .key(let key) = $0 { return key } else { return nil } }
}
