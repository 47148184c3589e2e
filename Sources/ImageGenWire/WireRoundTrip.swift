/// The wire fuzzer's property, in one place for `Fuzz/WireFuzzTarget.swift` (libFuzzer) and the
/// test that replays the fuzz corpus: the first input byte picks the frame stream reader or one of
/// the message decoders; whatever decodes must encode, decode and encode again to the same bytes
/// (bytes, not values: a NaN double is valid and not equal to itself). Not for production use.
@_spi(Fuzzing)
public enum WireRoundTrip {
    /// Checks one fuzz input; nil when it is refused or survives the round trip, else what failed.
    public static func check(_ input: [UInt8], limits: DecodeLimits = .default) -> String? {
        guard let selector = input.first else { return nil }
        let decoder = decoders[Int(selector) % decoders.count]
        return decoder(Array(input.dropFirst()), limits)
    }

    /// How many decoders the first byte chooses among.
    public static var decoderCount: Int { decoders.count }

    private typealias Decoder = @Sendable (_ bytes: [UInt8], _ limits: DecodeLimits) -> String?

    private static func roundTrip<M: WireMessage>(_ type: M.Type) -> Decoder {
        { bytes, limits in
            guard let first = try? M(serializedBytes: bytes, limits: limits) else { return nil }
            let encoded = first.serializedBytes()
            let again = try? M(serializedBytes: encoded, limits: .default)
            return again?.serializedBytes() == encoded ? nil : "\(M.self) does not survive a round trip"
        }
    }

    /// Reads bytes as the server does: length prefixes checked, each frame decoded.
    private static let frameStream: Decoder = { bytes, limits in
        var offset = 0
        while bytes.count - offset >= FrameHeader.size {
            let length = FrameHeader.decodeLength(bytes[offset..<offset + FrameHeader.size])
            guard (try? FrameHeader.validate(length: length, maxFrameBytes: 1 << 20)) != nil else { return nil }
            let end = offset + FrameHeader.size + Int(length)
            guard end <= bytes.count else { return nil }
            if let failure = roundTrip(Frame.self)(Array(bytes[offset + FrameHeader.size..<end]), limits) { return failure }
            offset = end
        }
        return nil
    }

    /// Indexed by the first input byte (modulo the count): keep the order, the seed corpus relies on it.
    private static let decoders: [Decoder] = [
        frameStream,
        roundTrip(Frame.self),
        roundTrip(CallStart.self),
        roundTrip(CallStatus.self),
        roundTrip(HealthCheckRequest.self),
        roundTrip(HealthCheckResponse.self),
        roundTrip(StartGenerationRequest.self),
        roundTrip(WatchJobRequest.self),
        roundTrip(GetStatusRequest.self),
        roundTrip(JobRequest.self),
        roundTrip(ListJobsRequest.self),
        roundTrip(ListJobsResponse.self),
        roundTrip(JobStatus.self),
        roundTrip(ProgressEvent.self),
        roundTrip(Storyboard.self),
        roundTrip(ListServersRequest.self),
        roundTrip(ListServersResponse.self),
    ]
}
