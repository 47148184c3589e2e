/// One style's keys, grouped by quota (``QuotaID``: the key's project and the style's model), with
/// each quota's pace, in-flight cap and cool-down. Owned by the style's dispatch loop (a value
/// type: no locking); time is passed in.
struct KeyPool {
    typealias Instant = ContinuousClock.Instant

    enum KeyState: Equatable {
        case active
        /// The daily quota of the key's project and model is spent.
        case exhausted(String)
        /// The key was rejected.
        case disabled(String)
    }

    struct Slot {
        let key: APIKey
        let project: Int
        var state: KeyState = .active
        var lastUsed: Instant?
        /// Until a key has answered once, it gets one request at a time (a bad key wastes one request, not a burst).
        var verified = false
        var inFlight = 0
    }

    /// The keys of one project, spending one quota (the project with the style's model).
    struct Project {
        let quota: QuotaID
        var inFlight = 0
        var nextStart: Instant
        var coolUntil: Instant?
        var consecutiveRateLimits = 0
        let gate: PaceGate
    }

    private(set) var slots: [Slot]
    private(set) var projects: [Project]
    let maxInFlightPerProject: Int

    /// - Parameters:
    ///   - requestsPerMinute: the style's configured pace (nil: learned; 0: unpaced).
    ///   - model: the style's model: with a key's project, the quota (``QuotaID``) it spends.
    ///   - gate: the pace gate of a quota (shared across an engine's styles and jobs); nil makes a private one.
    init(
        keys: [APIKey], model: String, requestsPerMinute: Double?, maxInFlightPerProject: Int,
        now: Instant, verified: Bool = false, gate: ((_ quota: QuotaID) -> PaceGate)? = nil
    ) {
        var projectIndex: [String: Int] = [:]
        var projects: [Project] = []
        var slots: [Slot] = []
        for key in keys {
            let index: Int
            if let existing = projectIndex[key.project] {
                index = existing
            } else {
                index = projects.count
                projectIndex[key.project] = index
                let quota = QuotaID(project: key.project, model: model)
                let paceGate = gate?(quota) ?? PaceGate(quota: quota, configured: requestsPerMinute)
                projects.append(Project(quota: quota, nextStart: now, gate: paceGate))
            }
            slots.append(Slot(key: key, project: index, verified: verified))
        }
        self.slots = slots
        self.projects = projects
        self.maxInFlightPerProject = max(1, maxInFlightPerProject)
    }

    /// The pace gate of the slot's quota.
    func gate(_ slot: Int) -> PaceGate { projects[slots[slot].project].gate }

    /// The quota the slot's key spends (its project, the style's model).
    func quota(_ slot: Int) -> QuotaID { projects[slots[slot].project].quota }

    var hasUsableKey: Bool { slots.contains { $0.state == .active } }

    /// The keys neither disabled nor set aside, in the style's order.
    var activeKeys: [APIKey] { slots.filter { $0.state == .active }.map(\.key) }

    private func projectIsReady(_ index: Int, now: Instant) -> Bool {
        let project = projects[index]
        return project.inFlight < maxInFlightPerProject && now >= project.nextStart
            && (project.coolUntil.map { now >= $0 } ?? true)
    }

    /// Takes the ready key that was used least recently, and starts its project's pace interval.
    mutating func acquire(now: Instant) -> Int? {
        var best: Int?
        for (index, slot) in slots.enumerated()
        where slot.state == .active && (slot.verified || slot.inFlight == 0) && projectIsReady(slot.project, now: now) {
            if let current = best {
                switch (slot.lastUsed, slots[current].lastUsed) {
                case (nil, .some): best = index
                case (.some(let a), .some(let b)) where a < b: best = index
                default: break
                }
            } else {
                best = index
            }
        }
        guard let best else { return nil }
        let project = slots[best].project
        projects[project].inFlight += 1
        slots[best].inFlight += 1
        projects[project].nextStart = now + projects[project].gate.spacing
        slots[best].lastUsed = now
        return best
    }

    /// Ends a request; `answered` when the server gave a verdict on the key (anything but a key rejection or a transport failure).
    mutating func release(_ slot: Int, answered: Bool) {
        projects[slots[slot].project].inFlight -= 1
        slots[slot].inFlight -= 1
        if answered { slots[slot].verified = true }
    }

    /// When a key may next become ready by the clock alone (pace or cool-down); nil when only a
    /// finishing request can free one.
    func nextReadyTime(now: Instant) -> Instant? {
        var earliest: Instant?
        for slot in slots where slot.state == .active && (slot.verified || slot.inFlight == 0) {
            let project = projects[slot.project]
            guard project.inFlight < maxInFlightPerProject else { continue }
            let time = max(project.nextStart, project.coolUntil ?? project.nextStart)
            earliest = earliest.map { min($0, time) } ?? time
        }
        return earliest
    }

    /// The earliest end of a cool-down still running.
    func nextCoolingEnd() -> Instant? {
        projects.compactMap(\.coolUntil).min()
    }

    /// Cools the slot's quota after a 429; returns the delay and the affected keys.
    mutating func cool(_ slot: Int, retryAfter: Duration?, policy: RetryPolicy, now: Instant) -> (Duration, [APIKey]) {
        let index = slots[slot].project
        projects[index].consecutiveRateLimits += 1
        let delay = policy.coolDown(retryAfter: retryAfter, refusal: projects[index].consecutiveRateLimits)
        let until = now + delay
        projects[index].coolUntil = max(projects[index].coolUntil ?? until, until)
        return (delay, activeKeys(ofProject: index))
    }

    /// Adopts cool-downs another style recorded for quotas this pool shares (same project and
    /// model); returns each newly cooled quota's active keys with the remaining delay.
    mutating func adoptCoolings(_ coolings: [QuotaID: Instant], now: Instant) -> [(APIKey, Duration)] {
        var cooled: [(APIKey, Duration)] = []
        for index in projects.indices {
            guard let until = coolings[projects[index].quota], until > now, until > (projects[index].coolUntil ?? now) else { continue }
            projects[index].coolUntil = until
            cooled += activeKeys(ofProject: index).map { ($0, until - now) }
        }
        return cooled
    }

    /// Cool-downs that ended by `now`; returns the keys that are ready again.
    mutating func endCoolings(now: Instant) -> [APIKey] {
        var ready: [APIKey] = []
        for index in projects.indices {
            if let until = projects[index].coolUntil, until <= now {
                projects[index].coolUntil = nil
                ready += activeKeys(ofProject: index)
            }
        }
        return ready
    }

    mutating func succeeded(_ slot: Int) {
        projects[slots[slot].project].consecutiveRateLimits = 0
    }

    /// Sets aside every key of the slot's project (a per-day quota is per project and model: the
    /// pool's other projects, and other styles' models, go on).
    mutating func exhaust(_ slot: Int, reason: String) -> [APIKey] {
        let project = slots[slot].project
        var keys: [APIKey] = []
        for index in slots.indices where slots[index].project == project && slots[index].state == .active {
            slots[index].state = .exhausted(reason)
            keys.append(slots[index].key)
        }
        return keys
    }

    /// Sets aside the active keys of every quota in `spent` (quota → reason), whose daily quota
    /// another style or job found spent; returns them with the reason.
    mutating func adoptSpentDailyQuotas(_ spent: [QuotaID: String]) -> [(APIKey, String)] {
        guard !spent.isEmpty else { return [] }
        var keys: [(APIKey, String)] = []
        for index in slots.indices where slots[index].state == .active {
            guard let reason = spent[projects[slots[index].project].quota] else { continue }
            slots[index].state = .exhausted(reason)
            keys.append((slots[index].key, reason))
        }
        return keys
    }

    /// Disables one key, also one already set aside because its project's daily quota is spent (a
    /// rejected key stays bad after midnight: say so, not "quota exhausted"). Returns false if it
    /// already was disabled.
    mutating func disable(_ slot: Int, reason: String) -> Bool {
        if case .disabled = slots[slot].state { return false }
        slots[slot].state = .disabled(reason)
        return true
    }

    private func activeKeys(ofProject project: Int) -> [APIKey] {
        slots.filter { $0.project == project && $0.state == .active }.map(\.key)
    }

    func counts(now: Instant) -> (cooling: Int, disabled: Int) {
        var cooling = 0
        var disabled = 0
        for slot in slots {
            switch slot.state {
            case .active:
                if let until = projects[slot.project].coolUntil, until > now { cooling += 1 }
            case .disabled, .exhausted:
                disabled += 1
            }
        }
        return (cooling, disabled)
    }

    /// "all 2 keys disabled: clear#1…abcd: API key not valid; clear#2…wxyz: daily quota exhausted".
    func exhaustedSummary() -> String {
        let reasons = slots.map { slot -> String in
            switch slot.state {
            case .active: return "\(slot.key.label): usable"
            case .disabled(let reason), .exhausted(let reason): return "\(slot.key.label): \(reason)"
            }
        }
        return "all \(slots.count) key\(slots.count == 1 ? "" : "s") disabled: " + reasons.joined(separator: "; ")
    }
}
