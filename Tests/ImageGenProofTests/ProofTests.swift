import ImageGenTestSupport
import Testing

/// Crash, fault and load tests of the real `imagegen-server` process on loopback (issue 5). Each
/// test runs its own processes in its own temporary directories; they are heavy, so one at a time.
/// The tests live in extensions of this suite (`ProofTests+Crash.swift`, `+Faults`, `+Load`).
@Suite("Proof: crash, faults, load", .serialized, .timeLimit(.minutes(3)), .hangWatchdog)
struct ProofTests {}
