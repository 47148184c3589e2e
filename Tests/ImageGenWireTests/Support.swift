import Foundation
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

/// A round trip of one value, as a test argument.
struct RoundTripCase: Sendable, CustomTestStringConvertible {
    let testDescription: String
    let run: @Sendable () throws -> Void

    init<M: WireMessage>(_ name: String, _ value: M) {
        testDescription = name
        run = { try expectRoundTrip(value) }
    }
}

/// Hand-built protobuf encodings, for bytes the Swift types cannot produce.
enum ProtobufBytes {
    static func varint(_ value: UInt64) -> [UInt8] {
        var value = value
        var bytes: [UInt8] = []
        while value >= 0x80 {
            bytes.append(UInt8(value & 0x7F) | 0x80)
            value >>= 7
        }
        bytes.append(UInt8(value))
        return bytes
    }

    static func tag(_ field: UInt64, wireType: UInt64) -> [UInt8] { varint(field << 3 | wireType) }

    /// A varint field (wire type 0).
    static func varintField(_ field: UInt64, _ value: UInt64) -> [UInt8] { tag(field, wireType: 0) + varint(value) }

    /// A length-delimited field (wire type 2).
    static func lengthDelimited(_ field: UInt64, _ payload: [UInt8]) -> [UInt8] {
        tag(field, wireType: 2) + varint(UInt64(payload.count)) + payload
    }
}

/// A small deterministic generator (SplitMix64), so random-input tests repeat.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// The package's root folder.
let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

/// The result of running a program.
struct ProcessResult {
    var status: Int32
    var stdout: String
    var stderr: String
}

/// Runs `arguments` (the first looked up on PATH) in the package root and waits for it.
/// Standard error goes to a temporary file, so only one pipe has to be drained.
func run(_ arguments: [String], environment: [String: String] = [:]) throws -> ProcessResult {
    let errorFile = FileManager.default.temporaryDirectory
        .appendingPathComponent("imagegen-wire-tests-\(UUID().uuidString).stderr")
    guard FileManager.default.createFile(atPath: errorFile.path, contents: nil) else {
        throw CocoaError(.fileWriteUnknown)
    }
    defer { try? FileManager.default.removeItem(at: errorFile) }
    let errorHandle = try FileHandle(forWritingTo: errorFile)
    defer { try? errorHandle.close() }

    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = arguments
    process.currentDirectoryURL = packageRoot
    process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    let stdout = Pipe()
    process.standardOutput = stdout
    process.standardError = errorHandle
    process.standardInput = FileHandle.nullDevice
    try process.run()
    let out = stdout.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    // FileHandle, not Data(contentsOf:): the latter leaks a buffer for empty files on Linux (LeakSanitizer).
    let errorReader = try FileHandle(forReadingFrom: errorFile)
    defer { try? errorReader.close() }
    let err = try errorReader.readToEnd() ?? Data()
    return ProcessResult(
        status: process.terminationStatus,
        stdout: String(decoding: out, as: UTF8.self),
        stderr: String(decoding: err, as: UTF8.self))
}

/// Whether a program runs successfully with `arguments`.
func succeeds(_ arguments: [String]) -> Bool {
    (try? run(arguments))?.status == 0
}
