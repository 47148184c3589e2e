/// Bounds on what decoding one message may cost. protobuf-c has no size parameter of its own, so
/// every unpack runs with an allocator that refuses to hold more than `budget(forInputBytes:)`.
public struct DecodeLimits: Sendable, Equatable {
    /// Memory the decoder may hold per input byte (protobuf-c structs are larger than their encoding).
    public var bytesPerInputByte: Int
    /// Memory the decoder may always hold, whatever the input size.
    public var baseBudget: Int
    /// An absolute cap on the memory one decode may hold.
    public var maxBudget: Int

    public init(bytesPerInputByte: Int = 64, baseBudget: Int = 64 * 1024, maxBudget: Int = 512 * 1024 * 1024) {
        self.bytesPerInputByte = bytesPerInputByte
        self.baseBudget = baseBudget
        self.maxBudget = maxBudget
    }

    /// The defaults: 64 bytes per input byte plus 64 KiB, at most 512 MiB.
    public static let `default` = DecodeLimits()

    /// The allocation budget for decoding `count` bytes.
    public func budget(forInputBytes count: Int) -> Int {
        let (scaled, overflow) = count.multipliedReportingOverflow(by: bytesPerInputByte)
        if overflow { return maxBudget }
        return min(maxBudget, scaled &+ baseBudget)
    }
}
