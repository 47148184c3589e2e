import Foundation
import ImageGenClient
import ImageGenRPC
import ImageGenTestSupport
import ImageGenWire
import Testing

/// The server never touches what is not its own, never throws progress away, and runs one job per
/// project across processes: each case through the real `imagegen-server` process on loopback
/// with the offline renderer.
@Suite("Proof: confinement, progress, project lock", .serialized, .timeLimit(.minutes(5)), .hangWatchdog)
struct ConfinementProofTests {
    /// A file or folder the engine reads or writes.
    enum Target: String, CaseIterable, Sendable {
        case storyboard, progressFile, progressJournal, imagesFolder, styleFolder, shotFolder, styleReference, image

        var path: String {
            switch self {
            case .storyboard: "storyboard.json"
            case .progressFile: "image_progress_clear.json"
            case .progressJournal: "image_progress_clear.journal"
            case .imagesFolder: "generated_images"
            case .styleFolder: "generated_images/clear"
            case .shotFolder: "generated_images/clear/Shot_1"
            case .styleReference: "style_reference.png"
            case .image: "generated_images/clear/Shot_1/Beat_1.1.png"
            }
        }

        var isFolder: Bool { [.imagesFolder, .styleFolder, .shotFolder].contains(self) }
    }

    /// What is put in its place.
    enum Intruder: String, CaseIterable, Sendable {
        case linkToOutsideFile, linkToOutsideFolder, danglingLink, fifo
        /// A folder where a file is expected, a file where a folder is.
        case wrongKind
        /// A character device (the null device's numbers): only root may make one.
        case device

        /// Every intruder this process can make.
        static let available: [Intruder] = allCases.filter { $0 != .device || getuid() == 0 }
    }

    static let storyboard = ProofStoryboard(shots: [(id: "1", beats: [("1.1", "a red kite", "hard_cut"), ("1.2", "a blue kite", "cut")])])

    /// A workspace with a server's config (durability none, tiny images) and an outside folder.
    struct Rig: Sendable {
        let workspace: ProofWorkspace
        var outside: URL { workspace.base.appendingPathComponent("outside") }
        var outsideFile: URL { outside.appendingPathComponent("secret.json") }
        var renderLog: URL { workspace.base.appendingPathComponent("render.log") }

        init(_ name: String) throws {
            workspace = try ProofWorkspace(name)
            try FileManager.default.createDirectory(at: outside, withIntermediateDirectories: true)
            try Data(#"{"beats":[],"style":"clear","updatedAt":1,"version":1}"#.utf8).write(to: outsideFile)
            try workspace.writeConfig(#"{"durability":"full","offline":{"width":32,"height":18}}"#)
        }

        func launcher(stateDirectory: URL? = nil, latencyMs: Int = 0) -> ServerLauncher {
            var arguments = workspace.serverArguments(config: true)
            if let stateDirectory, let index = arguments.firstIndex(of: "--state-dir") {
                arguments[index + 1] = stateDirectory.path
            }
            return ServerLauncher(
                arguments: arguments,
                environment: ["IMAGEGEN_OFFLINE_RENDER_LOG": renderLog.path, "IMAGEGEN_OFFLINE_LATENCY_MS": "\(latencyMs)"])
        }

        func place(_ intruder: Intruder, at relative: String, in project: URL, folderExpected: Bool) throws {
            let url = project.appendingPathComponent(relative)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            if FileManager.default.fileExists(atPath: url.path) { try FileManager.default.removeItem(at: url) }
            switch intruder {
            case .linkToOutsideFile: try FileManager.default.createSymbolicLink(at: url, withDestinationURL: outsideFile)
            case .linkToOutsideFolder: try FileManager.default.createSymbolicLink(at: url, withDestinationURL: outside)
            case .danglingLink:
                try FileManager.default.createSymbolicLink(atPath: url.path, withDestinationPath: outside.path + "/missing")
            case .fifo: #expect(mkfifo(url.path, 0o644) == 0)
            case .device: #expect(mknod(url.path, S_IFCHR | 0o644, dev_t((1 << 8) | 3)) == 0)
            case .wrongKind:
                if folderExpected {
                    try Data("not a folder".utf8).write(to: url)
                } else {
                    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
                }
            }
        }

        /// Every entry of the outside folder with its bytes and modification time.
        func outsideSnapshot() throws -> [String: String] { try Snapshot.of(outside) }
    }

    /// Starts a job on `projectDir` and reads its stream to the end: its events, or the error it was refused with.
    static func run(_ client: ImageGenerationClient, _ projectDir: String) async -> Result<[ProgressEvent], RPCError> {
        do {
            return .success(try await EventStreams.collect(try await client.startGeneration(StartGenerationRequest(projectDir: projectDir))))
        } catch let error as RPCError {
            return .failure(error)
        } catch {
            return .failure(RPCError(.unknown, "\(error)"))
        }
    }

    @Test("a link, FIFO or wrong kind in place of what the engine touches is refused, naming it; nothing outside changes",
          arguments: Target.allCases)
    func intrudersAreRefused(target: Target) async throws {
        let rig = try Rig("confine-\(target.rawValue)")
        defer { rig.workspace.remove() }
        let server = try await rig.launcher().launch()
        let client = try await ServerLauncher.client(server)
        defer { client.close() }
        for intruder in Intruder.available {
            let name = "p-\(intruder.rawValue)"
            let project = try rig.workspace.makeProject(name, storyboard: Self.storyboard)
            if target == .image {
                try FileManager.default.createDirectory(
                    at: project.appendingPathComponent("generated_images/clear/Shot_1"), withIntermediateDirectories: true)
            }
            try rig.place(intruder, at: target.path, in: project, folderExpected: target.isFolder)
            let before = try rig.outsideSnapshot()
            let outcome = await Self.run(client, name)
            let label = "\(target.path) as \(intruder.rawValue)"
            switch (target, outcome) {
            case (.image, .success(let events)):
                // Found only when the image is written: the style fails naming it, the others finish.
                let finished = try #require(EventStreams.finished(events), "\(label)")
                #expect(finished.state == .completedWithErrors, "\(label): \(finished)")
                #expect(finished.message.contains("\(target.path) in the project is "), "\(label): \(finished.message)")
                #expect(finished.styles.first { $0.style == "clear" }?.error.isEmpty == false, "\(label)")
                #expect(finished.styles.filter { $0.style != "clear" }.allSatisfy { $0.done == 2 }, "\(label)")
            case (.image, .failure(let error)):
                Issue.record("\(label): refused at start: \(error)")
            case (_, .success(let events)):
                Issue.record("\(label): accepted: \(events.last.map { "\($0)" } ?? "no events")")
            case (_, .failure(let error)):
                let dataLoss = intruder == .wrongKind && [.progressFile, .progressJournal].contains(target)
                #expect(error.code == (dataLoss ? .dataLoss : .failedPrecondition), "\(label): \(error)")
                #expect(error.message.contains(target.path), "\(label): \(error.message)")
                #expect(error.message.contains(name), "\(label): \(error.message)")
            }
            #expect(try rig.outsideSnapshot() == before, "\(label): the outside folder changed")
            #expect(!FileManager.default.fileExists(atPath: rig.outside.appendingPathComponent("generated_images").path))
        }
        // Still healthy: a clean project renders.
        try rig.workspace.makeProject("clean", storyboard: Self.storyboard)
        guard case .success(let events) = await Self.run(client, "clean") else {
            Issue.record("the clean project was refused")
            return
        }
        #expect(EventStreams.finished(events)?.state == .completed)
        #expect(try await client.health() == .serving)
        #expect(await ServerLauncher.stop(server.process) == 0)
    }

    /// How the progress is spoiled.
    enum Damage: String, CaseIterable, Sendable {
        case fileNotJSON, journalMiddleLineGarbage, folderInPlaceOfFile
    }

    @Test("progress that cannot be read or decoded refuses the job with DATA_LOSS and stays as it was",
          arguments: Damage.allCases)
    func damagedProgressIsDataLoss(damage: Damage) async throws {
        let rig = try Rig("dataloss-\(damage.rawValue)")
        defer { rig.workspace.remove() }
        let project = try rig.workspace.makeProject("film", storyboard: Self.storyboard)
        let server = try await rig.launcher().launch()
        let client = try await ServerLauncher.client(server)
        defer { client.close() }
        guard case .success = await Self.run(client, "film") else {
            Issue.record("first run refused")
            return
        }
        let file = project.appendingPathComponent("image_progress_clear.json")
        let journal = project.appendingPathComponent("image_progress_clear.journal")
        let spoiled: URL
        switch damage {
        case .fileNotJSON:
            try Data("{\"beats\":[{\"shot\"".utf8).write(to: file)
            spoiled = file
        case .journalMiddleLineGarbage:
            let record = #"{"attempts":1,"beat":"1.1","shot":"1","state":"failed","unknownOutcomeAttempts":0,"updatedAt":1,"usage":{"outputTokens":0,"promptTokens":0,"totalTokens":0},"wastedAttempts":0}"#
            try Data("\(record)\nGARBAGE\n\(record)\n".utf8).write(to: journal)
            spoiled = journal
        case .folderInPlaceOfFile:
            try FileManager.default.removeItem(at: file)
            try FileManager.default.createDirectory(at: file, withIntermediateDirectories: false)
            spoiled = file
        }
        // The lock file names the job that holds the project (rewritten by each admission): not progress.
        let before = try Snapshot.of(project).filter { $0.key != ".imagegen.lock" }
        let renders = (try? String(contentsOf: rig.renderLog, encoding: .utf8))?.count ?? 0
        guard case .failure(let error) = await Self.run(client, "film") else {
            Issue.record("\(damage): the job was accepted")
            return
        }
        #expect(error.code == .dataLoss, "\(error)")
        #expect(error.message.contains(spoiled.lastPathComponent), "\(error.message)")
        #expect(error.message.contains("move it aside"), "\(error.message)")
        #expect(try Snapshot.of(project).filter { $0.key != ".imagegen.lock" } == before, "the project changed")
        #expect(((try? String(contentsOf: rig.renderLog, encoding: .utf8))?.count ?? 0) == renders, "something was rendered again")
        // GetStatus from the files says so too, instead of "no progress".
        await #expect(throws: RPCError.self) { _ = try await client.getStatus(.projectDir("film")) }
        #expect(try await client.health() == .serving)
        #expect(await ServerLauncher.stop(server.process) == 0)
    }

    @Test("progress the server may not read (EACCES, the server run as nobody) refuses the job with DATA_LOSS",
          .enabled(if: getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv"), "needs root and setpriv"))
    func unreadableProgressIsDataLoss() async throws {
        let rig = try Rig("eacces")
        defer { rig.workspace.remove() }
        let project = try rig.workspace.makeProject("film", storyboard: Self.storyboard)
        let file = project.appendingPathComponent("image_progress_clear.json")
        try Data(#"{"beats":[],"style":"clear","updatedAt":1,"version":1}"#.utf8).write(to: file)
        let chown = Process()
        chown.executableURL = URL(fileURLWithPath: "/bin/chown")
        chown.arguments = ["-R", "65534:65534", rig.workspace.base.path]
        try chown.run()
        chown.waitUntilExit()
        #expect(chown.terminationStatus == 0)
        #expect(chmod(file.path, 0) == 0)
        let before = try Snapshot.of(project)

        let launcher = rig.launcher()
        let server = try ChildProcess(
            "/usr/bin/setpriv",
            arguments: ["--reuid=65534", "--regid=65534", "--clear-groups", "--",
                        productsDirectory().appendingPathComponent("imagegen-server").path] + launcher.arguments,
            environment: launcher.environment)
        let client = try await ImageGenerationClient.connect(host: "127.0.0.1", port: try await server.port())
        defer { client.close() }
        guard case .failure(let error) = await Self.run(client, "film") else {
            Issue.record("the job was accepted")
            return
        }
        #expect(error.code == .dataLoss, "\(error)")
        #expect(error.message.contains("image_progress_clear.json"), "\(error.message)")
        #expect(error.message.contains("Permission denied"), "\(error.message)")
        #expect(try Snapshot.of(project).filter { $0.key != ".imagegen.lock" } == before.filter { $0.key != ".imagegen.lock" })
        #expect(try FileManager.default.attributesOfItem(atPath: file.path)[.posixPermissions] as? Int == 0)
        #expect(try await client.health() == .serving)
        #expect(try await server.stop(signal: SIGTERM) == 0)
    }

    @Test("a storyboard.json over maxStoryboardBytes is refused without being read")
    func oversizedStoryboardIsRefused() async throws {
        let rig = try Rig("bigboard")
        defer { rig.workspace.remove() }
        try rig.workspace.writeConfig(#"{"durability":"none","maxStoryboardBytes":1024}"#)
        let board = ProofStoryboard.grid(shots: 4, beats: 10, subject: "a storyboard a little too long for its cap")
        try rig.workspace.makeProject("film", storyboard: board)
        #expect(try board.jsonData().count > 1024)
        let server = try await rig.launcher().launch()
        let client = try await ServerLauncher.client(server)
        defer { client.close() }
        guard case .failure(let error) = await Self.run(client, "film") else {
            Issue.record("the oversized storyboard was accepted")
            return
        }
        #expect(error.code == .failedPrecondition, "\(error)")
        #expect(error.message.contains("storyboard.json is \(try board.jsonData().count) bytes, more than maxStoryboardBytes (1024 bytes)"), "\(error.message)")
        #expect(await ServerLauncher.stop(server.process) == 0)
    }

    @Test("without --projects-root, a --state-dir in the current directory (the default root) refuses to start")
    func stateDirectoryInTheDefaultRootRefusesToStart() async throws {
        let rig = try Rig("statedir")
        defer { rig.workspace.remove() }
        let server = try ChildProcess(
            "imagegen-server",
            arguments: ["--listen", "127.0.0.1:0", "--state-dir", rig.workspace.base.appendingPathComponent("state").path],
            environment: ServerLauncher.clearedEnvironment, directory: rig.workspace.base)
        let status = try await server.waitForExit(timeout: .seconds(20))
        #expect(status != 0)
        #expect(server.stderr.contains("--state-dir"), "\(server.stderr)")
        #expect(server.stderr.contains("--projects-root"), "\(server.stderr)")
    }

    @Test("a full disk mid-job loses no record; the next job does only what is left",
          .enabled(if: SmallFileSystem.isAvailable, "needs root to mount a tmpfs"))
    func fullDiskMidJobThenResume() async throws {
        let rig = try Rig("enospc")
        defer { rig.workspace.remove() }
        let fs = try SmallFileSystem(bytes: 1024 * 1024)
        defer { fs.unmount() }
        let root = fs.url.appendingPathComponent("projects")
        let storyboard = ProofStoryboard.grid(shots: 2, beats: 15, subject: "a lantern in the rain")
        try FileManager.default.createDirectory(at: root.appendingPathComponent("film"), withIntermediateDirectories: true)
        try storyboard.jsonData().write(to: root.appendingPathComponent("film/storyboard.json"))
        // Leave 128 KiB free: the progress files and a score of images (a page each), then ENOSPC.
        let reserve = fs.url.appendingPathComponent("reserve")
        try Data(count: 128 * 1024).write(to: reserve)
        fs.fill()
        try FileManager.default.removeItem(at: reserve)

        var launcher = rig.launcher(latencyMs: 5)
        let rootIndex = try #require(launcher.arguments.firstIndex(of: "--projects-root"))
        launcher.arguments[rootIndex + 1] = root.path
        let server = try await launcher.launch()
        let client = try await ServerLauncher.client(server)
        defer { client.close() }

        guard case .success(let first) = await Self.run(client, "film") else {
            Issue.record("the first job was refused")
            return
        }
        let firstFinished = try #require(EventStreams.finished(first))
        #expect(firstFinished.state != .completed, "the disk never filled")
        #expect(firstFinished.message.contains("No space left on device"), "\(firstFinished.message)")
        let doneFirst = Set(EventStreams.beatEvents(first).filter { $0.state == .done }.map { "\($0.style)/\($0.beatID)" })
        #expect(!doneFirst.isEmpty)

        fs.drain()
        guard case .success(let second) = await Self.run(client, "film") else {
            Issue.record("the second job was refused")
            return
        }
        #expect(EventStreams.finished(second)?.state == .completed, "\(String(describing: EventStreams.finished(second)))")
        let beats = EventStreams.beatEvents(second)
        let skipped = Set(beats.filter { $0.state == .skipped }.map { "\($0.style)/\($0.beatID)" })
        let doneSecond = Set(beats.filter { $0.state == .done }.map { "\($0.style)/\($0.beatID)" })
        // Every image done in the first job is kept (its record was not lost), none is done twice.
        #expect(doneFirst.isSubset(of: skipped), "lost: \(doneFirst.subtracting(skipped).sorted())")
        #expect(doneSecond.isDisjoint(with: doneFirst))
        #expect(skipped.count + doneSecond.count == storyboard.beatCount * 3)
        let status = try await client.getStatus(.projectDir("film"))
        #expect(status.state == .completed, "\(status)")
        #expect(await ServerLauncher.stop(server.process) == 0)
    }

    @Test("two servers on one projects root never run one project at once; the second takes over after a kill -9")
    func twoServersOneProject() async throws {
        let rig = try Rig("lock")
        defer { rig.workspace.remove() }
        let storyboard = ProofStoryboard.grid(shots: 2, beats: 40, subject: "a slow train")
        try rig.workspace.makeProject("film", storyboard: storyboard)
        try FileManager.default.createSymbolicLink(
            at: rig.workspace.project("alias"), withDestinationURL: rig.workspace.project("film"))
        let first = try await rig.launcher(latencyMs: 300).launch()
        let second = try await rig.launcher(stateDirectory: rig.workspace.base.appendingPathComponent("state-2")).launch()

        let clientA = try await ServerLauncher.client(first)
        defer { clientA.close() }
        let accepted = try await EventStreams.collect(
            try await clientA.startGeneration(StartGenerationRequest(projectDir: "film", detach: true)))
        #expect(accepted.first?.jobID.isEmpty == false)

        // The same server, by a link to the same folder: the same job (attached), not a second one.
        let attached = try await EventStreams.collect(
            try await clientA.startGeneration(StartGenerationRequest(projectDir: "alias", detach: true)))
        #expect(attached.first?.jobID == accepted.first?.jobID)
        // By a bind mount of it (another real path, the same device and inode): refused, not run twice.
        if SmallFileSystem.isAvailable {
            let bind = rig.workspace.project("bound")
            try FileManager.default.createDirectory(at: bind, withIntermediateDirectories: true)
            #expect(SmallFileSystem.bind(rig.workspace.project("film"), at: bind))
            defer { SmallFileSystem.unbind(bind) }
            guard case .failure(let sameServer) = await Self.run(clientA, "bound") else {
                Issue.record("a bind mount of the project started a second job in the same server")
                return
            }
            #expect(sameServer.code == .failedPrecondition, "\(sameServer)")
            #expect(sameServer.message.contains("already has job"), "\(sameServer)")
        }

        // The other server, by both paths: refused, naming the holder (pid and job).
        let clientB = try await ServerLauncher.client(second)
        defer { clientB.close() }
        for path in ["film", "alias"] {
            guard case .failure(let error) = await Self.run(clientB, path) else {
                Issue.record("server 2 ran \(path) while server 1 runs it")
                return
            }
            #expect(error.code == .failedPrecondition, "\(error)")
            #expect(error.message.contains("pid \(first.process.pid) on host"), "\(error.message)")
        }
        // Kill -9 the holder mid-job: the kernel drops its lock and server 2 takes the project over.
        _ = try await first.process.stop(signal: SIGKILL)
        guard case .success(let events) = await Self.run(clientB, "film") else {
            Issue.record("server 2 could not take the project over")
            return
        }
        #expect(EventStreams.finished(events)?.state == .completed)
        // Each beat rendered at most once per server, and every image is there.
        let lines = try String(contentsOf: rig.renderLog, encoding: .utf8).split(separator: "\n")
        var counts: [Substring: Int] = [:]
        for line in lines { counts[line, default: 0] += 1 }
        #expect(counts.values.allSatisfy { $0 <= 2 }, "\(counts.filter { $0.value > 2 })")
        // Only what was in flight at the kill (4 renders per style at once) is rendered twice.
        #expect(lines.count <= storyboard.beatCount * 3 + 12, "\(lines.count) renders")
        #expect(Set(lines).count == storyboard.beatCount * 3)
        let status = try await clientB.getStatus(.projectDir("film"))
        #expect(status.state == .completed)
        #expect(await ServerLauncher.stop(second.process) == 0)
    }
}

/// Every entry under a folder with its bytes and modification time (folders marked as such).
enum Snapshot {
    static func of(_ url: URL) throws -> [String: String] {
        var result: [String: String] = [:]
        let manager = FileManager.default
        for name in try manager.subpathsOfDirectory(atPath: url.path) {
            let path = url.appendingPathComponent(name).path
            let attributes = try manager.attributesOfItem(atPath: path)
            let date = (attributes[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
            let type = attributes[.type] as? FileAttributeType
            let bytes = type == .typeRegular ? (try Data(contentsOf: URL(fileURLWithPath: path))).base64EncodedString() : "\(String(describing: type))"
            result[name] = "\(date) \(bytes)"
        }
        return result
    }
}
