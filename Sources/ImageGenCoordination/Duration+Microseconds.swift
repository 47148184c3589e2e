extension Duration {
    /// Whole microseconds (the unit the coordination schema keeps spacings and delays in), the
    /// part below a microsecond dropped.
    var wholeMicroseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000 + attoseconds / 1_000_000_000_000
    }

    /// Whole milliseconds, for PostgreSQL's timeouts and NIO's.
    var wholeMilliseconds: Int64 { wholeMicroseconds / 1_000 }
}
