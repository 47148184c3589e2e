import ImageGenWire

extension Duration {
    /// The duration in whole milliseconds, rounded up, at least 1 (libcurl treats 0 as "no limit").
    var curlMilliseconds: Int {
        Swift.max(1, Int(clamping: millisecondsRoundedUp))
    }

    /// The duration from fractional seconds.
    static func fractionalSeconds(_ seconds: Double) -> Duration {
        .nanoseconds(Int64((seconds * 1e9).rounded()))
    }
}
