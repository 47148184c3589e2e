/// Durations collected during a run, summarised as percentiles (in milliseconds).
struct LatencySample: Sendable {
    private(set) var milliseconds: [Double] = []

    mutating func add(_ duration: Duration) {
        milliseconds.append(duration.seconds * 1_000)
    }

    mutating func merge(_ other: LatencySample) {
        milliseconds.append(contentsOf: other.milliseconds)
    }

    var count: Int { milliseconds.count }

    /// The nearest-rank percentile `p` (0...100), in milliseconds; 0 when empty.
    func percentile(_ p: Double) -> Double {
        guard !milliseconds.isEmpty else { return 0 }
        let sorted = milliseconds.sorted()
        let rank = Int((p / 100 * Double(sorted.count)).rounded(.up)) - 1
        return sorted[min(max(rank, 0), sorted.count - 1)]
    }
}
