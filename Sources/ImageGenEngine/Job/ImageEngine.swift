public import Foundation
public import Logging

/// The style engine: renders a ``ValidatedStoryboard`` into a project directory in every configured style
/// at once, with durable, resumable progress.
///
/// ```swift
/// let config = try EngineConfiguration.load(file: configURL, environment: ProcessInfo.processInfo.environment)
/// let engine = ImageEngine(configuration: config, logger: logger) { style in
///     GeminiProvider(baseURL: style.baseURL, logger: logger)   // styles with keys
/// }
/// let job = try engine.makeJob(storyboard: board, project: projectURL)
/// let summary = await job.run()
/// ```
///
/// Styles with keys use the provider the factory makes; styles without keys use ``OfflineProvider``.
public struct ImageEngine: Sendable {
    /// Makes the provider of a style that has keys.
    public typealias ProviderFactory = @Sendable (StyleConfiguration) -> any ImageProvider
    /// The wall clock batch deadlines are read from (a test's own, to move them without waiting).
    public typealias WallClock = @Sendable () -> Date

    public let configuration: EngineConfiguration
    private let providerFactory: ProviderFactory?
    private let logger: Logger
    /// One pace gate per quota (project and model), shared by all the jobs this engine makes.
    private let paceGates: PaceGates
    private let quotas = QuotaBook()
    private let wallClock: WallClock
    private let coordinator: (any QuotaCoordinator)?

    /// - Parameters:
    ///   - providerFactory: the provider for styles with keys; nil renders every style offline.
    ///   - learnedLimits: the limits Gemini stated before (``LearnedLimits/load(file:)``), and where
    ///     to keep new ones; by default, memory only.
    ///   - wallClock: the time batch deadlines are measured in; the system's by default.
    ///   - coordinator: shares each quota's pace and cool-downs with other servers; nil (the
    ///     default): this engine paces its quotas alone.
    public init(
        configuration: EngineConfiguration, logger: Logger, learnedLimits: LearnedLimits = LearnedLimits(),
        providerFactory: ProviderFactory? = nil, wallClock: @escaping WallClock = { Date() },
        coordinator: (any QuotaCoordinator)? = nil
    ) {
        self.coordinator = coordinator
        self.wallClock = wallClock
        self.configuration = configuration
        self.logger = logger
        self.providerFactory = providerFactory
        self.paceGates = PaceGates(learned: learnedLimits, marginPercent: configuration.paceMarginPercent)
    }

    /// What every quota the engine has spent is paced at now (metrics, status).
    public var paceReadings: [PaceReading] { paceGates.readings }

    /// The provider a style will use.
    public func provider(for style: StyleConfiguration) -> any ImageProvider {
        if !style.keys.isEmpty, let providerFactory { return providerFactory(style) }
        return OfflineProvider(style: style.name, settings: configuration.offline)
    }

    /// The requests a job may have in flight: a job's own cap can lower the operator's, never raise it.
    static func concurrencyCap(job: Int?, operator configured: Int?) -> Int? {
        switch (job, configured) {
        case (let job?, let configured?): min(job, configured)
        case (let job?, nil): job
        case (nil, let configured): configured
        }
    }

    /// Checks, before a job is admitted, that nothing the job would touch in `project` is a link
    /// or special file: the `generated_images` folders of `styles` (and of each shot), the progress
    /// files and the style references. Throws `.unsafePath` naming the first offender, or
    /// `.corruptProgress` for a folder in place of a progress file. Blocking (one `fstatat` per
    /// folder and file): call it off the cooperative pool.
    public func checkProject(_ project: ProjectDirectory, storyboard: ValidatedStoryboard, styles: [String]) throws(EngineError) {
        func expect(_ path: String, _ kind: ProjectDirectory.Kind) throws(EngineError) {
            guard let entry = try project.entry(path), entry.kind != kind else { return }
            if kind == .regularFile && entry.kind == .directory && path.hasPrefix("image_progress_") {
                throw EngineError(
                    .corruptProgress,
                    "progress file \(path) is a directory and cannot be read; move it aside to start afresh")
            }
            throw ProjectDirectory.unsafe(path, is: entry.kind, expected: kind)
        }
        try expect("generated_images", .directory)
        try expect("style_reference.png", .regularFile)
        for style in styles {
            try expect(ProgressStore.fileName(style: style), .regularFile)
            try expect(ProgressStore.journalName(style: style), .regularFile)
            try expect(BatchLedgerStore.fileName(style: style), .regularFile)
            try expect("style_reference_\(style).png", .regularFile)
            try expect("generated_images/\(style)", .directory)
            for shot in storyboard.shots { try expect("generated_images/\(style)/Shot_\(shot.id)", .directory) }
        }
    }

    /// Prepares a job in the project folder at `project` (created if missing); nothing runs until
    /// ``ImageJob/run()``. Throws `.invalidOptions` for an unknown style name. Blocking (opens the folder).
    public func makeJob(storyboard: ValidatedStoryboard, project: URL, options: JobOptions = JobOptions()) throws(EngineError)
        -> ImageJob
    {
        try makeJob(storyboard: storyboard, directory: ProjectDirectory(url: project, create: true), options: options)
    }

    /// Prepares a job in an open project folder: every file it touches is reached through `directory`.
    public func makeJob(storyboard: ValidatedStoryboard, directory: ProjectDirectory, options: JobOptions = JobOptions())
        throws(EngineError) -> ImageJob
    {
        let project = directory.url
        var styles = configuration.styles
        if let selected = options.styles {
            var problems: [String] = []
            var chosen: [StyleConfiguration] = []
            for name in selected {
                if let style = configuration.style(named: name) {
                    if !chosen.contains(where: { $0.name == name }) { chosen.append(style) }
                } else {
                    problems.append(
                        "unknown style \(ValidatedStoryboard.quoted(name)) (known: \(configuration.styles.map(\.name).joined(separator: ", ")))")
                }
            }
            if chosen.isEmpty && problems.isEmpty { problems.append("no style selected") }
            if !problems.isEmpty { throw EngineError(.invalidOptions, "invalid style selection", problems: problems) }
            styles = chosen
        }
        if styles.isEmpty { throw EngineError(.invalidOptions, "no style configured") }
        if let deadline = options.batchDeadline, deadline < .zero {
            throw EngineError(.invalidOptions, "batchDeadline must be at least 0 seconds, not \(deadline.seconds)")
        }
        if let cap = options.maxConcurrentRequests, cap < 1 {
            throw EngineError(.invalidOptions, "maxConcurrentRequests must be at least 1, not \(cap)")
        }
        let (events, continuation) = AsyncStream<EngineEvent>.makeStream()
        let control = JobControl(
            continuation: continuation,
            maxInFlight: Self.concurrencyCap(job: options.maxConcurrentRequests, operator: configuration.maxConcurrentRequests),
            gates: paceGates,
            quotas: quotas,
            coordinator: coordinator)
        let runners = styles.map { style in
            StyleRunner(
                style: style, provider: provider(for: style), project: directory, storyboard: storyboard,
                force: options.force, configuration: configuration, control: control,
                logger: logger, delivery: options.delivery, batchDeadline: options.batchDeadline, wallClock: wallClock)
        }
        return ImageJob(events: events, project: project, control: control, runners: runners, logger: logger)
    }
}
