import ImageGenWire
import Testing

/// A round trip of one value, as a test argument.
struct RoundTripCase: Sendable, CustomTestStringConvertible {
    let testDescription: String
    let run: @Sendable () throws -> Void

    init<M: WireMessage>(_ name: String, _ value: M) {
        testDescription = name
        run = { try expectRoundTrip(value) }
    }
}
