/// What a transport failure was, as far as the provider's classification cares.
enum TransportFailureKind: Sendable, Equatable {
    case timedOut
    case couldNotConnect
    case responseTooLarge
    case connectionLost
    case other
}
