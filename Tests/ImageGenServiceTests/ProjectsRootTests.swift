import Foundation
import ImageGenRPC
import ImageGenService
import ImageGenTestSupport
import Testing

@Suite("ProjectsRoot", .timeLimit(.minutes(1)), .hangWatchdog)
struct ProjectsRootTests {
    /// A temporary root with a project, a file, an outside folder and symbolic links.
    struct Fixture {
        let base: URL
        let root: ProjectsRoot

        init() throws {
            base = FileManager.default.temporaryDirectory.appendingPathComponent("imagegen-roots-\(UUID().uuidString)")
            let fm = FileManager.default
            try fm.createDirectory(at: base.appendingPathComponent("root/projects/film-a/nested"), withIntermediateDirectories: true)
            try fm.createDirectory(at: base.appendingPathComponent("outside"), withIntermediateDirectories: true)
            try Data().write(to: base.appendingPathComponent("root/projects/a-file"))
            try fm.createSymbolicLink(atPath: base.appendingPathComponent("root/projects/escape").path, withDestinationPath: base.appendingPathComponent("outside").path)
            try fm.createSymbolicLink(atPath: base.appendingPathComponent("root/projects/alias").path, withDestinationPath: "film-a")
            root = try ProjectsRoot(path: base.appendingPathComponent("root/projects").path)
        }

        func remove() { try? FileManager.default.removeItem(at: base) }
    }

    @Test("accepted project paths", arguments: ["film-a", "film-a/", "./film-a", "film-a/nested/..", "alias", "film-a/nested"])
    func accepted(path: String) throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        let resolved = try fixture.root.resolve(path)
        #expect(resolved.path.hasPrefix(fixture.root.url.path + "/"))
    }

    @Test("an absolute path inside the root is accepted")
    func absoluteInside() throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        let resolved = try fixture.root.resolve(fixture.root.url.path + "/film-a")
        #expect(resolved.lastPathComponent == "film-a")
    }

    @Test("refused project paths", arguments: [
        ("", RPCError.Code.invalidArgument),
        ("..", .permissionDenied),
        ("../..", .permissionDenied),
        ("film-a/../../outside", .permissionDenied),
        ("/etc", .permissionDenied),
        ("/", .permissionDenied),
        ("escape", .permissionDenied),
        ("escape/sub", .permissionDenied),
        ("missing", .notFound),
        ("a-file", .failedPrecondition),
        ("bad\0name", .invalidArgument),
    ])
    func refused(path: String, code: RPCError.Code) throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        do {
            let resolved = try fixture.root.resolve(path)
            Issue.record("\"\(path)\" was accepted as \(resolved.path)")
        } catch {
            #expect(error.code == code, "\(path): \(error)")
            #expect(!error.message.isEmpty)
        }
    }

    @Test("the state directory under the root is never a project", arguments: [".imagegen-state", ".imagegen-state/sub", "./.imagegen-state/sub/.."])
    func stateDirectoryExcluded(path: String) throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        let state = fixture.root.url.appendingPathComponent(".imagegen-state")
        try FileManager.default.createDirectory(at: state.appendingPathComponent("sub"), withIntermediateDirectories: true)
        let root = fixture.root.excluding(state)
        #expect(throws: RPCError.self) { _ = try root.open(path) }
        do {
            _ = try root.resolve(path)
            Issue.record("\(path) was accepted")
        } catch {
            #expect(error.code == .permissionDenied)
            #expect(error.message.contains("state directory"))
        }
        // Other projects are still fine, and a state directory outside the root excludes nothing.
        #expect(try root.open("film-a").url.lastPathComponent == "film-a")
        #expect(fixture.root.excluding(fixture.base.appendingPathComponent("elsewhere")).excludedPath == nil)
    }

    @Test("two paths to one project open as one identity; the root itself opens too")
    func identity() throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        let direct = try fixture.root.open("film-a")
        let viaLink = try fixture.root.open("alias")
        #expect(direct.identity == viaLink.identity)
        #expect(viaLink.url.lastPathComponent == "film-a")
        #expect(try fixture.root.open(".").identity == fixture.root.directory.identity)
        #expect(try fixture.root.open("film-a/nested").identity != direct.identity)
    }

    @Test("a root that does not exist is refused")
    func missingRoot() {
        #expect(throws: RPCError.self) { _ = try ProjectsRoot(path: "/nonexistent-\(UUID().uuidString)") }
    }
}
