import Foundation

/// What a 429 did to a quota's pace (``PaceGate/rateLimited(_:startedAt:now:)``); its description
/// is what the job's watchers are told.
enum PaceChange: Equatable, Sendable, CustomStringConvertible {
    /// Gemini stated the limit; the pace is now `pace` (the limit, or a lower configured cap).
    case learned(limit: Double, pace: Double)
    /// A 429 without a limit: the pace is halved to `pace`, and grows back.
    case halved(pace: Double)
    /// Refused at the stated limit: every quota's starts are spaced this many percent wider from now on.
    case pushedBack(percent: Double)

    var description: String {
        switch self {
        case .learned(let limit, let pace):
            "Gemini states a limit of \(Self.rate(limit)) requests per minute; pacing at \(Self.rate(pace))"
        case .halved(let pace):
            "rate limited without a stated limit; pace halved to \(Self.rate(pace)) requests per minute, growing back while requests wait"
        case .pushedBack(let percent):
            "refused although paced at the stated limit; request starts of every quota are now spaced \(Self.rate(percent)) % wider"
        }
    }

    /// "120", "7.5".
    static func rate(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(format: "%.1f", value)
    }
}
