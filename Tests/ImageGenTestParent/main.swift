// imagegen-test-parent PROJECTS_ROOT STATE_DIR
//
// A stand-in for a test process, for the test that proves children die with it even when it is
// killed with SIGKILL: starts `imagegen-server` through ChildProcess from a task, as the suites
// do, prints "child PID port PORT" and then waits to be killed.
import Foundation
import ImageGenTestSupport

let arguments = CommandLine.arguments
guard arguments.count == 3 else {
    FileHandle.standardError.write(Data("usage: imagegen-test-parent PROJECTS_ROOT STATE_DIR\n".utf8))
    exit(2)
}
let server = try ChildProcess(
    "imagegen-server",
    arguments: ["--listen", "127.0.0.1:0", "--projects-root", arguments[1], "--state-dir", arguments[2], "--log-level", "warning"])
let port = try await server.port()
FileHandle.standardOutput.write(Data("child \(server.pid) port \(port)\n".utf8))
while true {
    try await Task.sleep(for: .seconds(3600))
}
