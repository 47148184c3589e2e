internal import Synchronization

/// The pace gates of the Google Cloud projects, one per project, shared by every style and every
/// job of one engine: a project's quota is one, whichever style or job spends it, so two jobs on
/// the same keys take turns at the project's pace instead of each spending it in full.
final class PaceGates: Sendable {
    private let gates = Mutex<[String: PaceGate]>([:])

    /// The gate of `project`; the widest spacing asked for wins.
    func gate(project: String, spacing: Duration) -> PaceGate {
        gates.withLock { gates in
            if let gate = gates[project] {
                gate.widen(to: spacing)
                return gate
            }
            let gate = PaceGate(spacing: spacing)
            gates[project] = gate
            return gate
        }
    }
}
