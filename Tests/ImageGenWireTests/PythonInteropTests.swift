import Foundation
import ImageGenWire
import ImageGenTestSupport
import Testing

/// Cross-checks the protobuf-c codec against Google's Python protobuf runtime, using the committed
/// `Clients/python/src/imagegen_client/proto/*_pb2.py`: Python encodes and Swift decodes, then
/// Swift encodes and Python decodes and compares with the same values built in Python.
@Suite("Python protobuf interop", .enabled(if: PythonInterop.available, PythonInterop.skipReason), .timeLimit(.minutes(1)), .hangWatchdog)
struct PythonInteropTests {
    @Test("Python encodes, Swift decodes the same values", arguments: PythonInterop.samples.map(\.name))
    func pythonToSwift(name: String) async throws {
        // Off the pool: the first case runs Python, the others wait for it in the static's once.
        let encoded = try await offPool { try PythonInterop.pythonEncodings.get() }
        let sample = try #require(PythonInterop.samples.first { $0.name == name })
        let hex = try #require(encoded[name], "python did not encode \(name)")
        let bytes = try #require(PythonInterop.bytes(hex: hex))
        #expect(try sample.decodesToSwiftValue(bytes), "\(name): Swift decoded other values than Python encoded")
    }

    @Test("Swift encodes, Python decodes the same values")
    func swiftToPython() async throws {
        let arguments = PythonInterop.samples.map { "\($0.name)=\(PythonInterop.hex($0.encode()))" }
        let result = try await offPool { try PythonInterop.python(["check"] + arguments) }
        #expect(result.status == 0, "python failed: \(result.stderr)")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        for sample in PythonInterop.samples {
            #expect(lines.contains("\(sample.name) ok"), "\(sample.name): \(lines.filter { $0.hasPrefix(sample.name + " ") })")
        }
    }
}
