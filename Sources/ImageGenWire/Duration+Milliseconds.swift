extension Duration {
    /// Whole milliseconds, the part below a millisecond dropped, saturating at `Int64.min`/`.max`:
    /// how the wire's `*_ms` fields carry a duration.
    ///
    /// ```swift
    /// Duration.milliseconds(1500).wholeMilliseconds      // 1500
    /// Duration.microseconds(1999).wholeMilliseconds      // 1
    /// ```
    public var wholeMilliseconds: Int64 { milliseconds(roundingUp: false) }

    /// Milliseconds with any part below a millisecond counted as one more, saturating: for a
    /// timeout that must not end early (`Duration.microseconds(1001)` is 2 ms).
    public var millisecondsRoundedUp: Int64 { milliseconds(roundingUp: true) }

    private func milliseconds(roundingUp: Bool) -> Int64 {
        let attosecondsPerMillisecond: Int64 = 1_000_000_000_000_000
        let (seconds, attoseconds) = components
        let saturated: Int64 = seconds < 0 ? .min : .max
        let (whole, overflow) = seconds.multipliedReportingOverflow(by: 1000)
        if overflow { return saturated }
        var fraction = attoseconds / attosecondsPerMillisecond
        if roundingUp, attoseconds % attosecondsPerMillisecond > 0 { fraction += 1 }
        let (sum, sumOverflow) = whole.addingReportingOverflow(fraction)
        return sumOverflow ? saturated : sum
    }
}
