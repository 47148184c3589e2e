internal import Synchronization

/// The pace gates of the quotas, one per ``QuotaID`` (project and model), shared by every style
/// and every job of one engine: a quota is one, whichever style or job spends it, so two jobs on
/// the same keys and model take turns at its pace instead of each spending it in full, while
/// another model on the same project keeps its own pace.
final class PaceGates: Sendable {
    private let gates = Mutex<[QuotaID: PaceGate]>([:])

    /// The gate of `quota`; the widest spacing asked for wins.
    func gate(quota: QuotaID, spacing: Duration) -> PaceGate {
        gates.withLock { gates in
            if let gate = gates[quota] {
                gate.widen(to: spacing)
                return gate
            }
            let gate = PaceGate(spacing: spacing)
            gates[quota] = gate
            return gate
        }
    }
}
