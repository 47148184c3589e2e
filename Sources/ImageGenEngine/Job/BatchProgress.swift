/// A style's batch wave as status and progress events show it: the wave's number, the state of
/// its least advanced batch and the counts of all its batches together.
public struct BatchProgress: Sendable, Equatable {
    /// 1 for the beats that depend on no other image; k+1 for those whose predecessor finished in wave k.
    public var wave: Int
    /// How many batches the wave was split into (per project, and under the inline size limit).
    public var batches: Int
    public var state: BatchState
    public var stats: BatchStats

    public init(wave: Int, batches: Int, state: BatchState, stats: BatchStats) {
        self.wave = wave
        self.batches = batches
        self.state = state
        self.stats = stats
    }
}
