public import ImageGenEngine
public import ImageGenWire

/// What the service holds at a moment, for metrics: its jobs by state, the event-stream watchers,
/// and the pace of every quota the engine has spent.
public struct ServiceGauges: Sendable, Equatable {
    /// Jobs in memory (running, and the finished ones kept) by state.
    public var jobsByState: [JobState: Int]
    /// Event streams (StartGeneration, WatchJob) attached to a job at this moment.
    public var watchers: Int
    /// What each quota (project and model) the engine has spent is paced at now.
    public var paces: [PaceReading]
}

extension JobManager {
    /// Counts the jobs in memory by state and the watchers attached to them, and reads the engine's paces.
    public func gauges() -> ServiceGauges {
        let jobs = state.withLock { Array($0.jobs.values) }
        var byState: [JobState: Int] = [:]
        var watchers = 0
        for job in jobs {
            byState[job.status(includeBeats: false).state, default: 0] += 1
            watchers += job.events.watcherCount
        }
        return ServiceGauges(jobsByState: byState, watchers: watchers, paces: engine.paceReadings)
    }
}
