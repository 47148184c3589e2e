/// The recent delays from a granted start to the request being on the wire, for one quota. The
/// smallest of them (``least``) is what a request usually takes; a request that took longer reached
/// the wire late by the difference, and the pace gate holds the next start back by as much.
/// Their spread (``spread``) is reported.
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

    /// The smallest recent delay; zero before the first.
    var least: Duration { samples.min() ?? .zero }

    /// The spread of the delays: the largest (less the few outliers, once there are enough) less
    /// the least; zero before two are known.
    var spread: Duration {
        guard samples.count >= 2 else { return .zero }
        let sorted = samples.sorted()
        let dropped = samples.count >= Self.capacity / 2 ? Self.outliers : 0
        return sorted[sorted.count - 1 - dropped] - sorted[0]
    }
}
