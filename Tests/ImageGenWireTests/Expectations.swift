import ImageGenWire
import Testing

/// Encodes `value`, decodes the bytes, and expects the same value and the same bytes again.
func expectRoundTrip<M: WireMessage>(
    _ value: M, limits: DecodeLimits = .default, sourceLocation: SourceLocation = #_sourceLocation
) throws {
    let bytes = value.serializedBytes()
    let decoded = try M(serializedBytes: bytes, limits: limits)
    #expect(decoded == value, sourceLocation: sourceLocation)
    #expect(decoded.serializedBytes() == bytes, "encoding is deterministic", sourceLocation: sourceLocation)
}

/// Expects decoding `bytes` as `M` to throw a `WireError` with `code` (and, if given, a message containing `mentioning`).
func expectWireError<M: WireMessage>(
    _ code: WireError.Code, decoding bytes: [UInt8], as type: M.Type, limits: DecodeLimits = .default,
    mentioning: String? = nil, sourceLocation: SourceLocation = #_sourceLocation
) {
    do {
        let value = try M(serializedBytes: bytes, limits: limits)
        Issue.record("expected \(code), decoded \(value)", sourceLocation: sourceLocation)
    } catch let error as WireError {
        #expect(error.code == code, "\(error.message)", sourceLocation: sourceLocation)
        if let mentioning {
            #expect(error.message.contains(mentioning), "\(error.message)", sourceLocation: sourceLocation)
        }
    } catch {
        Issue.record("expected a WireError, got \(error)", sourceLocation: sourceLocation)
    }
}
