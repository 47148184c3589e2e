extension Duration {
    /// The duration in whole milliseconds, rounded up, at least 1 (libcurl treats 0 as "no limit").
    var curlMilliseconds: Int {
        let (seconds, attoseconds) = components
        let millis = seconds * 1000 + (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000
        return Swift.max(1, Int(clamping: millis))
    }

    /// The duration from fractional seconds.
    static func fractionalSeconds(_ seconds: Double) -> Duration {
        .nanoseconds(Int64((seconds * 1e9).rounded()))
    }
}
