public import ArgumentParser
import Foundation
import ImageGenCoordination
import ImageGenEngine
public import ImageGenMetrics
public import ImageGenRPC
public import ImageGenService
public import Logging
public import ServiceLifecycle

/// The flags of a server that renders (`imagegen-server`, `imagegen serve`): where projects and
/// state live, the engine configuration, and whether to resume jobs after a restart.
public struct GenerationServerOptions: ParsableArguments {
    @Option(name: .long, help: "Projects must lie under this folder (default: the current directory, unless it holds an explicit --state-dir).")
    public var projectsRoot: String?

    @Option(name: .long, help: "Where the server remembers running jobs across restarts (default: <projects root>/.imagegen-state). Never a project: one under the projects root is refused as a project_dir.")
    public var stateDir: String?

    @Option(name: .long, help: "The engine configuration file (styles, keys, pacing); see Sources/ImageGenEngine/CONFIGURATION.md.")
    public var config: String?

    @Flag(name: .long, help: "Do not resume the jobs that were running when the server last stopped.")
    public var noResume = false

    @Option(name: .long, help: "Milliseconds a progress stream waits after a write, so the events of a busy job go out together (0: every event at once).")
    public var eventFlushMs: Int = 50

    @Option(name: .long, help: "Most beats a storyboard (sent in a request or read from storyboard.json) may have, in all shots.")
    public var maxBeats: Int = 50_000

    @Option(name: .long, help: "Most bytes (UTF-8) of one beat's prompt in a storyboard (sent in a request or read from storyboard.json).")
    public var maxPromptBytes: Int = 32 * 1024

    @Option(name: .long, help: "Serve Prometheus metrics (GET /metrics, HTTP/1.1, no authentication) on HOST:PORT; port 0 picks a free port. Off by default. A non-loopback address needs --allow-unauthenticated.")
    public var metricsListen: String?

    @Option(name: .long, help: "Share every quota (its pace, 429 cool-downs, spent daily quotas) with the other servers on this PostgreSQL database: postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?sslmode=MODE[&sslrootcert=FILE]] (MODE: disable, the default, prefer, require, verify-ca, verify-full, as libpq's). Default: IMAGEGEN_DATABASE_URL (which keeps a password out of the process list), else none: the server paces its quotas alone.")
    public var coordination: String?

    @Option(name: .long, help: "This server's name among those on the coordination database: the owner of its job leases, and its sessions' application_name. Give each server its own (a server started under the id of a live one exits); default: the host name.")
    public var serverID: String?

    @Option(name: .long, help: "With --coordination: seconds a job's lease lasts unless its server renews it (every third of it). When a server dies, another takes its jobs over at most this long after its last renewal.")
    public var leaseSeconds: Double = 15

    @Option(name: .long, help: "With --coordination: the HOST:PORT the other servers reach this one at, to forward calls for its jobs (default: the --listen address and port; a wildcard host is replaced by the host name).")
    public var advertise: String?

    public func validate() throws {
        if let coordination {
            do {
                _ = try CoordinationSettings(url: coordination)
            } catch {
                throw ValidationError("--coordination: \(error.message)")
            }
        }
        if let serverID, serverID.isEmpty || serverID.utf8.count > 48 || !serverID.allSatisfy(Self.isServerIDCharacter) {
            throw ValidationError("--server-id must be 1 to 48 printable ASCII characters, got \"\(serverID.prefix(60))\"")
        }
        if let metricsListen {
            do {
                _ = try ListenAddress(metricsListen)
            } catch {
                throw ValidationError("--metrics-listen must be HOST:PORT with a port from 0 to 65535, got \"\(metricsListen)\"")
            }
        }
        if let advertise, (try? ListenAddress(advertise)).map({ $0.port > 0 }) != true {
            throw ValidationError("--advertise must be HOST:PORT with a port from 1 to 65535, got \"\(advertise.prefix(100))\"")
        }
        guard leaseSeconds.isFinite, (1...3_600).contains(leaseSeconds) else {
            throw ValidationError("--lease-seconds must be between 1 and 3600, got \(leaseSeconds)")
        }
        guard maxBeats >= 1 else { throw ValidationError("--max-beats must be at least 1, got \(maxBeats)") }
        guard maxPromptBytes >= 1 else { throw ValidationError("--max-prompt-bytes must be at least 1, got \(maxPromptBytes)") }
        guard (0...10_000).contains(eventFlushMs) else {
            throw ValidationError("--event-flush-ms must be between 0 and 10000, got \(eventFlushMs)")
        }
    }

    public init() {}

    /// Runs a rendering server with `server`'s flags until SIGTERM or SIGINT.
    public func serve(with server: ServerOptions, label: String) async throws {
        // Before the keys are read into memory.
        try ProcessHardening.apply()
        server.bootstrapLogging()
        let logger = Logger(label: label)
        let metricsAddress = try metricsListen.map { try ListenAddress($0) }
        if let metricsAddress, !metricsAddress.isLoopback, !server.allowUnauthenticated {
            throw ValidationError(
                "--metrics-listen \(metricsListen ?? "") is not a loopback address and the metrics endpoint has no authentication: anyone who can reach it could read the server's counters; use a loopback address, or pass --allow-unauthenticated")
        }
        var assembly = try assemble(logger: logger, metrics: metricsAddress != nil)
        if let database = assembly.coordination, let problem = await database.tlsFileProblem() {
            throw ValidationError("the coordination database \(database.settings.endpoint): \(problem)")
        }
        var services = assembly.services
        if let metricsAddress, let metrics = assembly.metrics {
            let endpoint = try await MetricsEndpoint.start(at: metricsAddress, metrics: metrics, jobs: assembly.jobs, logger: logger)
            services.append(endpoint)
            assembly.announcements.insert("metrics listening on \(endpoint.host):\(endpoint.port)", at: 0)
        }
        let jobs = assembly.jobs
        try await server.serve(
            router: assembly.router, label: label, services: services, announce: assembly.announcements,
            callObserver: assembly.metrics, logger: logger,
            onListening: { [advertise] host, port in jobs.advertise(address: advertise ?? Self.advertisedAddress(host: host, port: port)) })
    }

    /// How the other servers reach one listening on `host`:`port`: that address, but the host
    /// name for a wildcard, and an IPv6 address in brackets.
    static func advertisedAddress(host: String, port: Int) -> String {
        if host == "0.0.0.0" || host == "::" { return "\(hostName()):\(port)" }
        return host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    /// Everything a rendering server runs: the job manager (a service of its own) and the router.
    public struct Assembly: Sendable {
        public var router: RPCRouter
        public var services: [any Service]
        /// One line per style: which provider and model it uses.
        public var announcements: [String]
        /// The job manager (also in `services`).
        public var jobs: JobManager
        /// The metrics the engine, the service and the RPC server feed, when asked for.
        public var metrics: ServerMetrics?
        /// The coordination database (also in `services`), when there is one.
        var coordination: CoordinationDatabase?
    }

    /// Builds the engine and the job service from these flags and the environment
    /// (`IMAGEGEN_KEYS_<STYLE>`, `IMAGEGEN_GEMINI_BASE_URL`, `IMAGEGEN_KEY_RPM`).
    /// With `metrics`, every provider request, engine event and RPC call is counted in ``Assembly/metrics``.
    public func assemble(logger: Logger, metrics wantsMetrics: Bool = false) throws -> Assembly {
        let environment = ProcessInfo.processInfo.environment
        let configuration: EngineConfiguration
        do {
            configuration = try EngineConfiguration.load(file: config.map { URL(fileURLWithPath: $0) }, environment: environment)
        } catch {
            throw ValidationError("configuration: \(error.description)")
        }
        if projectsRoot == nil, let stateDir {
            let cwd = URL(fileURLWithPath: FileManager.default.currentDirectoryPath).standardizedFileURL.path
            let state = URL(fileURLWithPath: stateDir).standardizedFileURL.path
            if state == cwd || state.hasPrefix(cwd.hasSuffix("/") ? cwd : cwd + "/") {
                throw ValidationError(
                    "--state-dir \(stateDir) lies in the current directory, which would be the default projects root: pass --projects-root (a folder that does not hold the state directory)")
            }
        }
        let root: ProjectsRoot
        do {
            root = try ProjectsRoot(path: projectsRoot ?? ".")
        } catch {
            throw ValidationError("--projects-root: \(error.message)")
        }
        let stateDirectory = URL(fileURLWithPath: stateDir ?? root.url.appendingPathComponent(".imagegen-state").path)
        let metrics = wantsMetrics ? ServerMetrics(styles: configuration.styles) : nil
        var factory = ProviderFactory(logger: logger).engineFactory
        if let metrics {
            let unmetered = factory
            let prices = configuration.prices
            factory = { @Sendable style in MeteredProvider(unmetered(style), style: style.name, metrics: metrics, prices: prices, imageSize: style.imageSize) }
        }
        let (learned, learnedNote) = Self.learnedLimits(in: stateDirectory)
        if let learnedNote { logger.warning("\(learnedNote)") }
        let database = try coordinationDatabase(environment: environment, observer: metrics, logger: logger)
        let engine = ImageEngine(
            configuration: configuration, logger: logger, learnedLimits: learned, providerFactory: factory,
            coordinator: database.map { PostgresQuotaCoordinator(database: $0) })
        var service = ServiceConfiguration(
            projectsRoot: root, stateDirectory: stateDirectory, resumeJobsOnStart: !noResume,
            eventFlushInterval: .milliseconds(eventFlushMs),
            storyboardLimits: StoryboardLimits(maxBeats: maxBeats, maxPromptBytes: maxPromptBytes))
        if let database {
            service.leases = PostgresJobLeases(database: database)
            service.coordinationProblem = { database.problem }
            service.serverID = database.settings.applicationName
            service.leaseDuration = .milliseconds(Int64(leaseSeconds * 1_000))
            service.forwardingToken = ServerOptions.tokenFromEnvironment
        }
        if let metrics {
            service.engineEventObserver = { @Sendable jobID, event in metrics.record(jobID: jobID, event) }
        }
        let jobs = JobManager(configuration: service, engine: engine, logger: logger)
        var router = RPCRouter()
        GenerationService(jobs: jobs).register(into: &router)
        let announcements = configuration.styles.map { style in
            let provider = engine.provider(for: style).name
            let keys = style.keys.isEmpty ? "no keys" : "\(style.keys.count) key\(style.keys.count == 1 ? "" : "s")"
            return "style \(style.name): provider \(provider) (\(keys), model \(style.model))"
        } + ["projects root \(root.url.path)", "state directory \(stateDirectory.path)"]
            + [learnedNote ?? Self.describe(learned)]
            + [database.map { "coordination \($0.settings.endpoint) (server \($0.settings.applicationName)): quotas and job leases shared" } ?? "coordination: none (quotas paced by this server alone)"]
        // The database first: the service group shuts services down in reverse order, the jobs before it.
        let services: [any Service] = (database.map { [$0] } ?? []) + [jobs]
        return Assembly(
            router: router, services: services, announcements: announcements, jobs: jobs, metrics: metrics, coordination: database)
    }

    /// The coordination database of `--coordination`, else `IMAGEGEN_DATABASE_URL`; nil without either.
    func coordinationDatabase(
        environment: [String: String], observer: (any CoordinationObserver)? = nil, logger: Logger
    ) throws -> CoordinationDatabase? {
        let source = coordination.map { ("--coordination", $0) }
            ?? environment["IMAGEGEN_DATABASE_URL"].flatMap { $0.isEmpty ? nil : ("IMAGEGEN_DATABASE_URL", $0) }
        guard let (name, url) = source else { return nil }
        var settings: CoordinationSettings
        do {
            settings = try CoordinationSettings(url: url)
        } catch {
            throw ValidationError("\(name): \(error.message)")
        }
        settings.applicationName = serverID ?? Self.hostName()
        return CoordinationDatabase(settings: settings, observer: observer, logger: logger)
    }

    /// What a `--server-id` is made of: printable ASCII (space to tilde).
    static func isServerIDCharacter(_ character: Character) -> Bool {
        character.asciiValue.map { (0x20...0x7E).contains($0) } ?? false
    }

    /// The host name, cut to what `--server-id` allows.
    static func hostName() -> String {
        let name = ProcessInfo.processInfo.hostName.filter(Self.isServerIDCharacter)
        return name.isEmpty ? "imagegen" : String(name.prefix(48))
    }

    /// The limits Gemini stated to an earlier run, from the state directory (read at start-up,
    /// before anything is served). A file that cannot be read is reported and replaced when a
    /// limit is next learned; the server paces as if nothing were learned.
    static func learnedLimits(in stateDirectory: URL) -> (LearnedLimits, String?) {
        let file = stateDirectory.appendingPathComponent(LearnedLimits.fileName)
        do {
            return (try LearnedLimits.load(file: file), nil)
        } catch {
            return (LearnedLimits(replacing: file), "\(error.description); ignored: it is replaced when a limit is next learned")
        }
    }

    /// "learned limits: 2 quotas (learned-limits.json)".
    static func describe(_ learned: LearnedLimits) -> String {
        let count = learned.entries.count
        return "learned limits: \(count) quota\(count == 1 ? "" : "s") (\(LearnedLimits.fileName))"
    }
}
