import ImageGenTestSupport
import Testing

/// Fails when the committed protoc-c and Python code no longer matches `Proto/*.proto`.
@Suite("Generated code", .timeLimit(.minutes(1)), .hangWatchdog)
struct GeneratedCodeTests {
    static let generatorsInstalled = succeeds(["protoc-c", "--version"]) && succeeds(["protoc", "--version"])

    @Test(
        "scripts/generate-proto --check: the committed generated code is current",
        .enabled(if: generatorsInstalled, "protoc-c or protoc is not installed (CI installs both); skipping the staleness check"))
    func generatedCodeIsCurrent() async throws {
        let result = try await runOffPool(["bash", "scripts/generate-proto", "--check"])
        #expect(result.status == 0, "stale generated code: run scripts/generate-proto and commit.\n\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("generated code is current"))
    }
}
