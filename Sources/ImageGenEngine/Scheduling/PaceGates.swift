import Foundation
internal import Synchronization

/// The pace gates of the quotas, one per ``QuotaID`` (project and model), shared by every style
/// and every job of one engine: a quota is one, whichever style or job spends it, so two jobs on
/// the same keys and model take turns at its pace instead of each spending it in full, while
/// another model on the same project keeps its own pace. New gates start from the limits
/// learned before (``LearnedLimits``).
final class PaceGates: Sendable {
    private let gates = Mutex<[QuotaID: PaceGate]>([:])
    let learned: LearnedLimits
    let marginPercent: Double
    let pushback: PacePushback

    init(learned: LearnedLimits = LearnedLimits(), marginPercent: Double = 0) {
        self.learned = learned
        self.marginPercent = marginPercent
        self.pushback = PacePushback(percent: learned.pushbackPercent)
    }

    /// The gate of `quota`, for a style whose configured pace is `configured` (nil: learn it;
    /// 0: unpaced); the lowest configured value caps the quota.
    func gate(quota: QuotaID, configured: Double?) -> PaceGate {
        let limit = learned.limit(for: quota, now: Date())
        return gates.withLock { gates in
            if let gate = gates[quota] {
                gate.adopt(configured: configured, learned: limit.flatMap { $0.fresh ? $0.perMinute : nil })
                return gate
            }
            let gate = PaceGate(
                quota: quota, configured: configured, learned: limit, marginPercent: marginPercent, pushback: pushback)
            gates[quota] = gate
            return gate
        }
    }

    /// What every quota is paced at now, sorted by project and model.
    var readings: [PaceReading] {
        gates.withLock { Array($0.values) }.map(\.reading).sorted {
            ($0.quota.project, $0.quota.model) < ($1.quota.project, $1.quota.model)
        }
    }
}
