/// The engine's whole configuration: the styles, the Gemini endpoint, job-wide limits, durability
/// and the offline renderer. Load it with ``load(file:environment:)`` (a JSON file plus environment
/// overrides, documented in CONFIGURATION.md), or build it in code.
///
/// ```swift
/// let config = try EngineConfiguration.load(file: URL(filePath: "imagegen.json"),
///                                           environment: ProcessInfo.processInfo.environment)
/// ```
public struct EngineConfiguration: Sendable, Equatable {
    /// How hard the engine works to survive a power loss (a killed process loses nothing either way).
    public enum Durability: String, Sendable, Equatable {
        /// fsync images, their directories and every journal line (the default).
        case full
        /// Atomic renames only, no fsync: survives a crash of the process, not of the machine.
        /// Meant for tests and benchmarks.
        case none
    }

    /// The public Gemini API.
    public static let defaultBaseURL = "https://generativelanguage.googleapis.com"

    /// The styles, in order. Every style is rendered unless a job selects a subset.
    public var styles: [StyleConfiguration]
    /// At most this many requests in flight across all styles of a job; nil means no job-wide cap.
    public var maxConcurrentRequests: Int?
    public var durability: Durability
    /// The journal is compacted into the JSON progress file when it has more lines than this
    /// (or than there are records, whichever is larger, so saves stay O(1) amortised).
    public var journalCompactionLines: Int
    public var offline: OfflineSettings
    /// Request starts of a quota are spaced this many percent wider than its pace, on top of what
    /// the engine measures and learns (the spread of send delays, refusals at the stated limit).
    /// 0.5 by default: the part of arrival jitter on the server's side, which no client can measure.
    public var paceMarginPercent: Double
    /// The largest `storyboard.json` read from a project, in bytes.
    public var maxStoryboardBytes: Int
    /// The largest style reference or predecessor image read from a project, in bytes.
    public var maxReferenceImageBytes: Int
    /// What an image costs, for the spend metrics (``PriceTable/defaults`` unless configured).
    public var prices: PriceTable
    /// The pace of particular quotas (project and model) where it differs from their styles':
    /// requests per minute, nil to learn it, 0 for none (the file's `quotas`).
    public var quotaPaces: [QuotaID: Double?] = [:]

    /// Default of ``maxStoryboardBytes``: 64 MiB (100,000 beats of 500-byte prompts fit).
    public static let defaultMaxStoryboardBytes = 64 << 20
    /// Default of ``maxReferenceImageBytes``: 32 MiB (a 4K PNG is well under).
    public static let defaultMaxReferenceImageBytes = 32 << 20

    public init(
        styles: [StyleConfiguration] = StyleConfiguration.defaults, maxConcurrentRequests: Int? = nil,
        durability: Durability = .full, journalCompactionLines: Int = 1000, offline: OfflineSettings = OfflineSettings(),
        paceMarginPercent: Double = 0.5, maxStoryboardBytes: Int = defaultMaxStoryboardBytes,
        maxReferenceImageBytes: Int = defaultMaxReferenceImageBytes, prices: PriceTable = .defaults
    ) {
        self.prices = prices
        self.maxStoryboardBytes = maxStoryboardBytes
        self.maxReferenceImageBytes = maxReferenceImageBytes
        self.styles = styles
        self.maxConcurrentRequests = maxConcurrentRequests
        self.durability = durability
        self.journalCompactionLines = journalCompactionLines
        self.offline = offline
        self.paceMarginPercent = paceMarginPercent
    }

    /// The style called `name`, if configured.
    /// The configured pace of `quota` spent by `style`: the quota's own when set, else the style's.
    public func pace(of quota: QuotaID, style: StyleConfiguration) -> Double? {
        if let own = quotaPaces[quota] { return own }
        return style.requestsPerMinute
    }

    public func style(named name: String) -> StyleConfiguration? {
        styles.first { $0.name == name }
    }
}
