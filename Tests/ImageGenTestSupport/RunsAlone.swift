public import Testing

/// Marks a test or suite whose cases measure a rate or a delay in the test process: each case runs
/// alone in it (``TestGate``), so that the suites Swift Testing runs beside it do not take the
/// cooperative pool its engines pace on. The gate is applied by ``HangWatchdog``, which every
/// suite carries; this trait only says which cases must be alone.
public struct RunsAlone: TestTrait, SuiteTrait {
    public var isRecursive: Bool { true }
}

extension Trait where Self == RunsAlone {
    /// Each case of this test (or of every test in this suite) runs alone in the test process.
    public static var runsAlone: RunsAlone { RunsAlone() }
}
