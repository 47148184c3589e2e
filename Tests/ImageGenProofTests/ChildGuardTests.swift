import Foundation
import ImageGenTestSupport
import Synchronization
import Testing

/// Test children die with the test process, however it dies: a parent killed with SIGKILL takes
/// its `imagegen-server` along, and a child does not die with the (short-lived) thread that
/// happened to start it.
@Suite("Children die with their parent", .timeLimit(.minutes(1)), .hangWatchdog)
struct ChildGuardTests {
    /// How long a child may outlive its killed parent.
    static let bound = Duration.seconds(5)

    /// Whether `pid` is a process that still runs (a zombie waiting for its reaper does not).
    static func isRunning(_ pid: Int32) -> Bool {
        guard kill(pid, 0) == 0 else { return false }
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return false }
        // "pid (comm) S …": the state letter follows the command name.
        let state = stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).first
        return state != "Z" && state != "X"
    }

    /// Waits until `condition` holds or `timeout` passes; returns whether it held.
    static func within(_ timeout: Duration, _ condition: () -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while !condition() {
            if ContinuousClock.now > deadline { return false }
            try await Task.sleep(for: .milliseconds(20))
        }
        return true
    }

    @Test func aParentKilledWithSIGKILLTakesItsServerAlong() async throws {
        let workspace = try ProofWorkspace("child-guard")
        defer { workspace.remove() }
        // A real test-like process: it starts imagegen-server through ChildProcess, from a task.
        let parent = try ChildProcess(
            "imagegen-test-parent", arguments: [workspace.projectsRoot.path, workspace.stateDirectory.path])
        var childPID: Int32?
        _ = try await Self.within(.seconds(20)) {
            let line = parent.stdout.split(separator: "\n").first { $0.hasPrefix("child ") }
            childPID = line.flatMap { Int32($0.split(separator: " ")[1]) }
            return childPID != nil || !parent.isRunning
        }
        let child = try #require(childPID, "the parent never started its server; stderr: \(parent.stderr)")
        #expect(Self.isRunning(child))

        kill(parent.pid, SIGKILL)
        _ = try await parent.waitForExit()
        let started = ContinuousClock.now
        let gone = try await Self.within(Self.bound) { !Self.isRunning(child) }
        #expect(gone, "imagegen-server \(child) still runs \(Self.bound) after its parent was killed")
        if gone {
            print("child guard: imagegen-server \(child) gone \(ContinuousClock.now - started) after its parent's SIGKILL")
        } else {
            kill(child, SIGKILL)
        }
    }

    /// What the short-lived thread started: the server, the thread's id, or why it failed.
    final class Started: Sendable {
        let state = Mutex<(ChildProcess?, String?, String?)>((nil, nil, nil))
    }

    @Test func aChildOutlivesTheThreadThatStartedIt() async throws {
        let workspace = try ProofWorkspace("child-thread")
        defer { workspace.remove() }
        // Started from a thread that exits at once: were the child's death tied to that thread
        // (PR_SET_PDEATHSIG in a child spawned from it), the server would get SIGKILL.
        let started = Started()
        let thread = Thread {
            // "/proc/thread-self" links to "PID/task/TID".
            let tid = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/thread-self"))?
                .split(separator: "/").last.map(String.init) ?? "?"
            do {
                let server = try ChildProcess(
                    "imagegen-server",
                    arguments: [
                        "--listen", "127.0.0.1:0", "--projects-root", workspace.projectsRoot.path, "--state-dir",
                        workspace.stateDirectory.path, "--log-level", "warning",
                    ])
                started.state.withLock { $0 = (server, tid, nil) }
            } catch {
                started.state.withLock { $0 = (nil, tid, "\(error)") }
            }
        }
        thread.start()
        _ = try await Self.within(.seconds(10)) { started.state.withLock { $0.1 != nil } }
        let (server, tid, failure) = started.state.withLock { $0 }
        #expect(failure == nil, "\(failure ?? "")")
        let process = try #require(server)
        let threadID = try #require(tid)
        // The starting thread is really gone from this process.
        let exited = try await Self.within(.seconds(10)) {
            !FileManager.default.fileExists(atPath: "/proc/self/task/\(threadID)")
        }
        #expect(exited)
        // The server came up and still runs after its starter thread's exit.
        _ = try await process.port()
        #expect(process.isRunning && Self.isRunning(process.pid))
        #expect(try await process.stop() == 0)
    }
}
