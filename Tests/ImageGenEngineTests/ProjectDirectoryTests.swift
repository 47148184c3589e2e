import Foundation
@testable import ImageGenEngine
import ImageGenTestSupport
import Testing

/// The confined project folder: every path below it is opened without following a link or
/// leaving it, with openat2 and with the component-by-component walk older kernels get.
@Suite("Project directory", .timeLimit(.minutes(2)), .hangWatchdog)
struct ProjectDirectoryTests {
    /// What replaces an expected file or folder.
    enum Intruder: String, CaseIterable, Sendable {
        case linkToOutsideFile, linkToOutsideFolder, danglingLink, fifo, folder
        /// A character device (the null device's numbers): only root may make one.
        case device

        /// Every intruder this process can make.
        static let available: [Intruder] = allCases.filter { $0 != .device || getuid() == 0 }

        /// The kind the refusal names.
        var kind: ProjectDirectory.Kind {
            switch self {
            case .linkToOutsideFile, .linkToOutsideFolder, .danglingLink: .symbolicLink
            case .fifo: .fifo
            case .folder: .directory
            case .device: .device
            }
        }
    }

    static let resolutions: [ProjectDirectory.Resolution] = [.automatic, .walk]

    /// A project folder and, next to it, an outside folder with a file whose bytes and mtime are checked.
    struct Fixture: ~Copyable {
        let temp = TempDirectory("confined")
        var project: URL { temp.url.appendingPathComponent("project") }
        var outside: URL { temp.url.appendingPathComponent("outside") }
        var outsideFile: URL { outside.appendingPathComponent("secret.txt") }
        let secret = Data("do not touch\n".utf8)

        init() throws {
            try FileManager.default.createDirectory(at: project, withIntermediateDirectories: true)
            try FileManager.default.createDirectory(at: outside, withIntermediateDirectories: true)
            try secret.write(to: outsideFile)
        }

        func open(_ resolution: ProjectDirectory.Resolution) throws -> ProjectDirectory {
            try ProjectDirectory(url: project, create: false, resolution: resolution)
        }

        /// Puts `intruder` at `relative` in the project (its parent folders are created).
        func place(_ intruder: Intruder, at relative: String) throws {
            let url = project.appendingPathComponent(relative)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            switch intruder {
            case .linkToOutsideFile: try FileManager.default.createSymbolicLink(at: url, withDestinationURL: outsideFile)
            case .linkToOutsideFolder: try FileManager.default.createSymbolicLink(at: url, withDestinationURL: outside)
            case .danglingLink:
                try FileManager.default.createSymbolicLink(atPath: url.path, withDestinationPath: outside.path + "/missing")
            case .fifo: #expect(mkfifo(url.path, 0o644) == 0)
            case .folder: try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
            case .device: #expect(mknod(url.path, S_IFCHR | 0o644, dev_t((1 << 8) | 3)) == 0)
            }
        }

        /// The outside folder holds exactly its one file, unchanged.
        func expectOutsideUntouched(sourceLocation: SourceLocation = #_sourceLocation) throws {
            let names = try FileManager.default.contentsOfDirectory(atPath: outside.path)
            #expect(names == ["secret.txt"], sourceLocation: sourceLocation)
            #expect(try Data(contentsOf: outsideFile) == secret, sourceLocation: sourceLocation)
        }
    }

    static func expectUnsafe(
        _ body: () throws -> Void, naming path: String, kind: ProjectDirectory.Kind,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        do {
            try body()
            Issue.record("expected a refusal naming \(path)", sourceLocation: sourceLocation)
        } catch let error as EngineError {
            #expect(error.code == .unsafePath, "\(error)", sourceLocation: sourceLocation)
            #expect(error.message.hasPrefix(path + " in the project is \(kind)"), "\(error)", sourceLocation: sourceLocation)
        } catch {
            Issue.record("unexpected \(error)", sourceLocation: sourceLocation)
        }
    }

    @Test("reading a file that something else replaced", arguments: Intruder.available, resolutions)
    func readRefused(intruder: Intruder, resolution: ProjectDirectory.Resolution) throws {
        let fixture = try Fixture()
        try fixture.place(intruder, at: "a/b/file.json")
        let project = try fixture.open(resolution)
        Self.expectUnsafe({ _ = try project.readFile("a/b/file.json", limit: 1 << 20) }, naming: "a/b/file.json", kind: intruder.kind)
        try fixture.expectOutsideUntouched()
    }

    @Test("reading below a folder that something else replaced", arguments: Intruder.available, resolutions)
    func readBelowRefused(intruder: Intruder, resolution: ProjectDirectory.Resolution) throws {
        let fixture = try Fixture()
        try fixture.place(intruder, at: "a/b")
        let project = try fixture.open(resolution)
        if intruder == .folder {
            #expect(try project.readFile("a/b/secret.txt", limit: 1 << 20) == nil)
        } else {
            Self.expectUnsafe({ _ = try project.readFile("a/b/secret.txt", limit: 1 << 20) }, naming: "a/b", kind: intruder.kind)
        }
        try fixture.expectOutsideUntouched()
    }

    @Test("writing a file that something else replaced", arguments: Intruder.available, resolutions)
    func writeRefused(intruder: Intruder, resolution: ProjectDirectory.Resolution) throws {
        let fixture = try Fixture()
        try fixture.place(intruder, at: "images/Shot_1/Beat_1.png")
        let project = try fixture.open(resolution)
        Self.expectUnsafe(
            { try project.writeFile("images/Shot_1/Beat_1.png", sync: true) { try $0(Data("new".utf8)) } },
            naming: "images/Shot_1/Beat_1.png", kind: intruder.kind)
        // No temporary file is left behind.
        let names = try FileManager.default.contentsOfDirectory(atPath: fixture.project.appendingPathComponent("images/Shot_1").path)
        #expect(names == ["Beat_1.png"])
        try fixture.expectOutsideUntouched()
    }

    @Test("writing below a folder that something else replaced", arguments: Intruder.available, resolutions)
    func writeBelowRefused(intruder: Intruder, resolution: ProjectDirectory.Resolution) throws {
        guard intruder != .folder else { return }
        let fixture = try Fixture()
        try fixture.place(intruder, at: "images/Shot_1")
        let project = try fixture.open(resolution)
        Self.expectUnsafe(
            { try project.writeFile("images/Shot_1/Beat_1.png", sync: false) { try $0(Data("new".utf8)) } },
            naming: "images/Shot_1", kind: intruder.kind)
        Self.expectUnsafe({ _ = try project.openForAppend("images/Shot_1/log.journal", sync: false) }, naming: "images/Shot_1", kind: intruder.kind)
        try fixture.expectOutsideUntouched()
    }

    @Test("appending to a journal that something else replaced", arguments: Intruder.available, resolutions)
    func appendRefused(intruder: Intruder, resolution: ProjectDirectory.Resolution) throws {
        let fixture = try Fixture()
        try fixture.place(intruder, at: "progress.journal")
        let project = try fixture.open(resolution)
        // A FIFO without a reader must not block the open.
        Self.expectUnsafe({ _ = try project.openForAppend("progress.journal", sync: true) }, naming: "progress.journal", kind: intruder.kind)
        try fixture.expectOutsideUntouched()
    }

    @Test("clean-up removes only regular temporary files, and never through a link", arguments: resolutions)
    func cleanUpStaysInside(resolution: ProjectDirectory.Resolution) throws {
        let fixture = try Fixture()
        let shot = fixture.project.appendingPathComponent("g/Shot_1")
        try FileManager.default.createDirectory(at: shot, withIntermediateDirectories: true)
        try Data("stale".utf8).write(to: shot.appendingPathComponent(".Beat_1.png.tmp-1-2"))
        try Data("image".utf8).write(to: shot.appendingPathComponent("Beat_1.png"))
        try FileManager.default.createSymbolicLink(at: shot.appendingPathComponent(".Beat_2.png.tmp-1-3"), withDestinationURL: fixture.outsideFile)
        try Data("stale".utf8).write(to: fixture.outside.appendingPathComponent(".Beat_3.png.tmp-1-4"))
        try FileManager.default.createSymbolicLink(at: fixture.project.appendingPathComponent("g/Shot_2"), withDestinationURL: fixture.outside)
        let project = try fixture.open(resolution)
        try project.removeFiles(in: "g/Shot_1") { $0.contains(".tmp-") }
        #expect(Set(try FileManager.default.contentsOfDirectory(atPath: shot.path)) == ["Beat_1.png", ".Beat_2.png.tmp-1-3"])
        Self.expectUnsafe({ try project.removeFiles(in: "g/Shot_2") { _ in true } }, naming: "g/Shot_2", kind: .symbolicLink)
        #expect(FileManager.default.fileExists(atPath: fixture.outside.appendingPathComponent(".Beat_3.png.tmp-1-4").path))
    }

    @Test("writes create folders, replace regular files atomically, and read back", arguments: resolutions)
    func writeAndRead(resolution: ProjectDirectory.Resolution) throws {
        let fixture = try Fixture()
        let project = try fixture.open(resolution)
        try project.writeFile("g/s/Shot_1/Beat_1.png", sync: true) { append in
            try append(Data("one ".utf8))
            try append(Data("two".utf8))
        }
        #expect(try project.readFile("g/s/Shot_1/Beat_1.png", limit: 100) == Data("one two".utf8))
        try project.writeFile("g/s/Shot_1/Beat_1.png", sync: false) { try $0(Data("three".utf8)) }
        #expect(try project.readFile("g/s/Shot_1/Beat_1.png", limit: 100) == Data("three".utf8))
        #expect(try project.entry("g/s/Shot_1/Beat_1.png")?.kind == .regularFile)
        #expect(try project.entry("g/s/Shot_1")?.kind == .directory)
        #expect(try project.entry("g/missing/x") == nil)
        #expect(try project.readFile("g/missing/x", limit: 100) == nil)
        // A body that throws leaves the file as it was, and no temporary file.
        struct Stop: Error {}
        #expect(throws: Stop.self) { try project.writeFile("g/s/Shot_1/Beat_1.png", sync: false) { _ in throw Stop() } }
        #expect(try project.readFile("g/s/Shot_1/Beat_1.png", limit: 100) == Data("three".utf8))
        #expect(try project.contents(of: "g/s/Shot_1").map(\.name) == ["Beat_1.png"])
        // This machine's kernel (5.6 or later) resolves with openat2; the walk is tested all the same.
        if resolution == .automatic, ProcessInfo.processInfo.operatingSystemVersion.majorVersion >= 6 {
            #expect(ProjectDirectory.kernelResolvesWithOpenat2)
        }
    }

    @Test("a file over its cap is refused without reading it", arguments: resolutions)
    func sizeCap(resolution: ProjectDirectory.Resolution) throws {
        let fixture = try Fixture()
        try Data(count: 5000).write(to: fixture.project.appendingPathComponent("storyboard.json"))
        let project = try fixture.open(resolution)
        let error = #expect(throws: EngineError.self) {
            _ = try project.readFile("storyboard.json", limit: 4096, limitName: "maxStoryboardBytes")
        }
        #expect(error?.code == .inputTooLarge)
        #expect(error?.message == "storyboard.json is 5000 bytes, more than maxStoryboardBytes (4096 bytes)")
        #expect(try project.readFile("storyboard.json", limit: 5000)?.count == 5000)
    }

    @Test("the input caps are configuration with defaults")
    func capsAreConfiguration() throws {
        let defaults = try EngineConfiguration.parse(json: Data("{}".utf8))
        #expect(defaults.maxStoryboardBytes == 64 << 20)
        #expect(defaults.maxReferenceImageBytes == 32 << 20)
        let set = try EngineConfiguration.parse(json: Data(#"{"maxStoryboardBytes":2048,"maxReferenceImageBytes":4096}"#.utf8))
        #expect(set.maxStoryboardBytes == 2048)
        #expect(set.maxReferenceImageBytes == 4096)
        let error = #expect(throws: EngineError.self) { _ = try EngineConfiguration.parse(json: Data(#"{"maxStoryboardBytes":10}"#.utf8)) }
        #expect(error?.description.contains("maxStoryboardBytes") == true)
    }

    @Test("paths that are not inside the project are refused", arguments: ["", "/etc/passwd", "..", "../x", "a/../b", "a//b", "./a", "a/"])
    func badPaths(path: String) throws {
        let fixture = try Fixture()
        let project = try fixture.open(.automatic)
        let error = #expect(throws: EngineError.self) { _ = try project.readFile(path, limit: 10) }
        #expect(error?.code == .unsafePath)
    }

    @Test("one lock per folder, whichever path opened it; released when dropped")
    func lock() throws {
        let fixture = try Fixture()
        let alias = fixture.temp.url.appendingPathComponent("alias")
        try FileManager.default.createSymbolicLink(at: alias, withDestinationURL: fixture.project)
        let first = try fixture.open(.automatic)
        let second = try ProjectDirectory(url: alias)
        #expect(first.identity == second.identity)
        var held: ProjectLock? = try ProjectLock.acquire(first, holder: "pid 1 on host test, job one")
        let error = #expect(throws: EngineError.self) { _ = try ProjectLock.acquire(second, holder: "pid 2") }
        #expect(error?.code == .projectLocked)
        #expect(error?.message.contains("held by pid 1 on host test, job one, since ") == true, "\(String(describing: error))")
        #expect(held != nil)
        held = nil
        _ = try ProjectLock.acquire(second, holder: "pid 2")
    }
}
