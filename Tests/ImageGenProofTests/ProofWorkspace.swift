import Foundation

/// A temporary directory for one test: a projects root with project folders, a state directory
/// and a configuration file. `remove()` deletes it all.
struct ProofWorkspace: Sendable {
    let base: URL

    init(_ name: String) throws {
        base = FileManager.default.temporaryDirectory.appendingPathComponent("imagegen-proof-\(name)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: projectsRoot, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: stateDirectory, withIntermediateDirectories: true)
    }

    var projectsRoot: URL { base.appendingPathComponent("projects") }
    var stateDirectory: URL { base.appendingPathComponent("state") }
    var configFile: URL { base.appendingPathComponent("config.json") }

    /// The folder of project `name` under the projects root.
    func project(_ name: String) -> URL { projectsRoot.appendingPathComponent(name) }

    /// Creates project `name` with `storyboard` as its storyboard.json; returns its folder.
    @discardableResult
    func makeProject(_ name: String, storyboard: ProofStoryboard) throws -> URL {
        let folder = project(name)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try storyboard.jsonData().write(to: folder.appendingPathComponent("storyboard.json"))
        return folder
    }

    /// Writes the server's `--config` file.
    func writeConfig(_ json: String) throws {
        try Data(json.utf8).write(to: configFile)
    }

    /// The `imagegen-server` arguments for this workspace (loopback, port 0).
    func serverArguments(config: Bool) -> [String] {
        var arguments = [
            "--listen", "127.0.0.1:0", "--projects-root", projectsRoot.path, "--state-dir", stateDirectory.path,
            "--log-level", "warning",
        ]
        if config { arguments += ["--config", configFile.path] }
        return arguments
    }

    func remove() {
        try? FileManager.default.removeItem(at: base)
    }
}
