import Synchronization

/// The bytes a server may hold for its peers at once, across all connections: frames still being
/// received (decoding) and answers the peers have not taken yet (writing). A connection whose next
/// bytes do not fit is refused with RESOURCE_EXHAUSTED; new calls and connections are refused while
/// the budget is spent. What is already held is never taken back, so old work goes on.
final class BufferBudget: Sendable {
    /// The budget in bytes.
    let limit: Int
    private let used = Atomic<Int>(0)

    init(limit: Int) {
        self.limit = limit
    }

    /// Bytes held now.
    var inUse: Int { used.load(ordering: .relaxed) }

    /// True when nothing more fits.
    var isExhausted: Bool { inUse >= limit }

    /// Takes `bytes` if they fit; false (and nothing taken) if they do not.
    func reserve(_ bytes: Int) -> Bool {
        guard bytes > 0 else { return true }
        var current = used.load(ordering: .relaxed)
        while true {
            guard current + bytes <= limit else { return false }
            let (exchanged, original) = used.compareExchange(
                expected: current, desired: current + bytes, ordering: .relaxed)
            if exchanged { return true }
            current = original
        }
    }

    /// Takes `bytes` whether or not they fit (bytes already in memory, e.g. an answer being written).
    func force(_ bytes: Int) {
        if bytes > 0 { used.add(bytes, ordering: .relaxed) }
    }

    /// Gives back `bytes` taken with ``reserve(_:)`` or ``force(_:)``.
    func release(_ bytes: Int) {
        if bytes > 0 { used.subtract(bytes, ordering: .relaxed) }
    }
}
