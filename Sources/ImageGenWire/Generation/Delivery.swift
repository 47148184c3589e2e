
/// How a style's beats are sent to Gemini (`imagegen.v1.Delivery`).
public enum Delivery: Int32, Sendable, Hashable, CaseIterable {
    /// The style's configured delivery.
    case unspecified = 0
    /// One request per beat.
    case online = 1
    /// Batch API batches, in waves along the chains (half price).
    case batch = 2
    /// Batches while the batch deadline allows, else online.
    case auto = 3
}

extension Delivery: ProtobufCEnum {}
