// libFuzzer entry point for the wire decoders: the frame reader (length prefix + Frame) and every
// request/response decoder. Built with the ImageGenWire sources by Fuzz/run (not by SwiftPM).
//
// The first input byte picks the decoder; the rest is the bytes to decode. Whatever decodes must
// encode again, and that encoding must decode and encode to the same bytes.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzWire(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    let selector = data[0]
    let bytes = Array(UnsafeBufferPointer(start: data + 1, count: size - 1))
    let limits = DecodeLimits(bytesPerInputByte: 64, baseBudget: 64 * 1024, maxBudget: 64 * 1024 * 1024)
    let decoders = WireFuzzing.decoders
    let decoder = decoders[Int(selector) % decoders.count]
    decoder(bytes, limits)
    return 0
}

enum WireFuzzing {
    /// Decodes, re-encodes, decodes again and re-encodes, and traps if the two encodings differ.
    /// (Encodings, not values: a NaN double is a valid value that is not equal to itself.)
    static func roundTrip<M: WireMessage>(_ type: M.Type) -> @Sendable ([UInt8], DecodeLimits) -> Void {
        { bytes, limits in
            guard let first = try? M(serializedBytes: bytes, limits: limits) else { return }
            let encoded = first.serializedBytes()
            let again = try? M(serializedBytes: encoded, limits: .default)
            precondition(again?.serializedBytes() == encoded, "\(M.self) does not survive a round trip")
        }
    }

    /// Feeds bytes to a frame reader as the server does: length prefixes checked, frames decoded.
    static func frameStream(_ bytes: [UInt8], _ limits: DecodeLimits) {
        var offset = 0
        while bytes.count - offset >= FrameHeader.size {
            let length = FrameHeader.decodeLength(bytes[offset..<offset + FrameHeader.size])
            guard (try? FrameHeader.validate(length: length, maxFrameBytes: 1 << 20)) != nil else { return }
            let end = offset + FrameHeader.size + Int(length)
            guard end <= bytes.count else { return }
            roundTrip(Frame.self)(Array(bytes[offset + FrameHeader.size..<end]), limits)
            offset = end
        }
    }

    static let decoders: [@Sendable ([UInt8], DecodeLimits) -> Void] = [
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
    ]
}
