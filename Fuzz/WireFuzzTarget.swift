// libFuzzer entry point for the wire decoders: the frame reader (length prefix + Frame) and every
// request/response decoder. Built with the ImageGenWire sources by Fuzz/run (not by SwiftPM).
//
// The property lives in Sources/ImageGenWire/WireRoundTrip.swift, shared with the test that replays
// the corpus: the first input byte picks the decoder; whatever decodes must encode again, and that
// encoding must decode and encode to the same bytes.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzWire(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = Array(UnsafeBufferPointer(start: data, count: size))
    let limits = DecodeLimits(bytesPerInputByte: 64, baseBudget: 64 * 1024, maxBudget: 64 * 1024 * 1024)
    if let failure = WireRoundTrip.check(input, limits: limits) { preconditionFailure(failure) }
    return 0
}
