// imagegen-fake-gemini: a loopback fake of Gemini's generateContent for tests and dry runs.
// Prints exactly one line, `listening on HOST:PORT`, on stdout once it accepts connections;
// logs to stderr; exits 0 on SIGTERM or SIGINT.
import ArgumentParser
import FakeGemini
import Foundation
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// The command line of the fake Gemini server.
struct FakeGeminiCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "imagegen-fake-gemini",
        abstract: "A fake Gemini image API on loopback, with pace limits and fault injection.")

    @Option(help: "HOST:PORT to listen on; port 0 picks a free port.")
    var listen = "127.0.0.1:0"

    @Option(name: .customLong("key"), help: "A known key as PROJECT:KEY (repeatable).")
    var keys: [String] = []

    @Flag(help: "Accept any non-empty key (project \"default\").")
    var acceptAnyKey = false

    @Option(name: .customLong("forbidden-key"), help: "A key answered with 403 (repeatable).")
    var forbiddenKeys: [String] = []

    @Option(name: .customLong("model"), help: "A model that exists (repeatable); without it every model exists.")
    var models: [String] = []

    @Option(help: "Requests per window (--rate-window-ms, default a minute) per project and model.")
    var rpm: Int?

    @Option(help: "Requests per day per project and model.")
    var rpd: Int?

    @Option(name: .customLong("rate-window-ms"), help: "The window of --rpm in milliseconds (default one minute).")
    var rateWindowMs = 60_000

    @Option(help: "The shape of the --rpm limit: \(FakeGeminiLimiter.Kind.allCases.map(\.rawValue).joined(separator: ", ")) (a token bucket refills at --rpm per window).")
    var limiter = FakeGeminiLimiter.Kind.slidingWindow.rawValue

    @Option(help: "The token bucket's size (1 = strictly spaced requests).")
    var burst = 1

    @Option(name: .customLong("latency-ms"), help: "Delay before every answer, in milliseconds.")
    var latencyMs = 0

    @Option(name: .customLong("jitter-ms"), help: "A random extra delay up to this many milliseconds.")
    var jitterMs = 0

    @Option(name: .customLong("fault-retry-ms"), help: "The retry delay of the rate_limit fault, in milliseconds.")
    var faultRetryMs = 1_500

    @Option(name: .customLong("fault"), help: "A fault for the next request (repeatable, in order): \(FakeGeminiFault.allCases.map(\.rawValue).joined(separator: ", ")).")
    var faults: [String] = []

    @Option(name: .customLong("batch-pending-seconds"), help: "How long a new Batch API batch stays PENDING (fractions allowed).")
    var batchPendingSeconds = 0.0

    @Option(name: .customLong("batch-running-seconds"), help: "How long a batch runs: its requests are processed evenly over this time (fractions allowed).")
    var batchRunningSeconds = 0.0

    @Option(name: .customLong("batch-fault"), help: "A fault for the next batch created (repeatable, in order): \(FakeGeminiBatchFault.names.joined(separator: ", ")).")
    var batchFaults: [String] = []

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel = "info"

    func validate() throws {
        guard Self.splitListen(listen) != nil else { throw ValidationError("--listen must be HOST:PORT") }
        for key in keys where key.split(separator: ":", maxSplits: 1).count != 2 {
            throw ValidationError("--key must be PROJECT:KEY")
        }
        for fault in faults where FakeGeminiFault(rawValue: fault) == nil {
            throw ValidationError("unknown fault \(fault)")
        }
        for fault in batchFaults where FakeGeminiBatchFault(name: fault) == nil {
            throw ValidationError("unknown batch fault \(fault) (known: \(FakeGeminiBatchFault.names.joined(separator: ", ")))")
        }
        guard batchPendingSeconds >= 0, batchRunningSeconds >= 0, batchPendingSeconds.isFinite, batchRunningSeconds.isFinite else {
            throw ValidationError("--batch-pending-seconds and --batch-running-seconds must be 0 or more")
        }
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("unknown log level \(logLevel)") }
        guard let kind = FakeGeminiLimiter.Kind(rawValue: limiter) else { throw ValidationError("unknown limiter \(limiter)") }
        if let rpm, !kind.limiter(requests: rpm, window: .milliseconds(rateWindowMs), burst: burst).isValid {
            throw ValidationError("--rpm, --rate-window-ms and --burst must be positive")
        }
    }

    static func splitListen(_ listen: String) -> (host: String, port: Int)? {
        guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]),
            (0...65_535).contains(port)
        else { return nil }
        var host = String(listen[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return (host.isEmpty ? "127.0.0.1" : host, port)
    }

    /// Serves until SIGTERM or SIGINT.
    func serve() async throws {
        let level = Logger.Level(rawValue: logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "imagegen-fake-gemini")
        guard let (host, port) = Self.splitListen(listen) else { throw ValidationError("--listen must be HOST:PORT") }
        var keyMap: [String: String] = [:]
        for item in keys {
            let pieces = item.split(separator: ":", maxSplits: 1)
            keyMap[String(pieces[1])] = String(pieces[0])
        }
        let configuration = FakeGeminiConfiguration(
            host: host, port: port, keys: keyMap, acceptAnyKey: acceptAnyKey, forbiddenKeys: Set(forbiddenKeys),
            models: models.isEmpty ? nil : Set(models), requestsPerMinute: rpm, rateWindow: .milliseconds(rateWindowMs),
            limiter: rpm.flatMap { requests in
                FakeGeminiLimiter.Kind(rawValue: limiter)?.limiter(requests: requests, window: .milliseconds(rateWindowMs), burst: burst)
            },
            requestsPerDay: rpd, latency: .milliseconds(latencyMs), jitter: .milliseconds(jitterMs),
            faultRetryDelay: .milliseconds(faultRetryMs),
            faults: faults.compactMap { FakeGeminiFault(rawValue: $0) }.map { FakeGeminiScriptedFault($0) },
            batchPendingTime: .milliseconds(Int64(batchPendingSeconds * 1000)),
            batchRunningTime: .milliseconds(Int64(batchRunningSeconds * 1000)),
            batchFaults: batchFaults.compactMap { FakeGeminiBatchFault(name: $0) })

        // Signals arrive through dispatch sources, not handlers: ignore the default action first.
        signal(SIGTERM, SIG_IGN)
        signal(SIGINT, SIG_IGN)
        let (signals, continuation) = AsyncStream<Int32>.makeStream()
        let sources = [SIGTERM, SIGINT].map { number in
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { continuation.yield(number) }
            source.resume()
            return source
        }

        let server = FakeGeminiServer(configuration: configuration, logger: logger)
        let bound = try await server.start()
        // Unbuffered: the line is out before anything waits on it.
        FileHandle.standardOutput.write(Data("listening on \(host):\(bound)\n".utf8))

        var received: Int32 = 0
        for await number in signals {
            received = number
            break
        }
        logger.info("stopping", metadata: ["signal": "\(received)", "requests": "\(server.requestLog().count)"])
        for source in sources { source.cancel() }
        continuation.finish()
        try await server.shutdown()
    }
}

let command = FakeGeminiCommand.parseOrExit()
do {
    try await command.serve()
} catch {
    FakeGeminiCommand.exit(withError: error)
}
