/// The recent delays from a granted start to the request being on the wire, for one quota: how
/// much later than its start a request may arrive. Their spread (``spread``) is how much two
/// requests spaced exactly at the pace may bunch up on arrival, so the pace gate widens its
/// spacing by it. The largest few are left out: a rare stall is better paid with one 429 than
/// with every request spaced wider.
struct SendDelays {
    static let capacity = 64
    /// Delays left out at the top of a full window.
    static let outliers = 2

    private var samples: [Duration] = []
    private var next = 0

    mutating func add(_ delay: Duration) {
        if samples.count < Self.capacity {
            samples.append(delay)
        } else {
            samples[next] = delay
        }
        next = (next + 1) % Self.capacity
    }

    /// Below this many delays, the smallest is not trusted: the next may be as quick as nothing
    /// (the first requests pay for a connection, the next reuse it).
    static let trusted = 8

    /// The spread of the delays: the largest (less the few outliers, once there are enough) less
    /// the smallest, or less nothing while few are known; zero before the first.
    var spread: Duration {
        guard let largest = samples.max() else { return .zero }
        guard samples.count >= Self.trusted else { return largest }
        let sorted = samples.sorted()
        let dropped = samples.count >= Self.capacity / 2 ? Self.outliers : 0
        return sorted[sorted.count - 1 - dropped] - sorted[0]
    }
}
