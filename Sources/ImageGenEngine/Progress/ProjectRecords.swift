public import Foundation

/// Every beat record of one style in a project, read from its progress file and journal, in the
/// order they were first recorded. For tools that show a project (the contact sheet).
public enum ProjectRecords {
    /// Reads the records of `style` in `project`; an empty list when the style has none yet.
    public static func read(project: URL, style: String) async throws(EngineError) -> [BeatRecord] {
        let io = BlockingIO(label: "imagegen.records")
        do {
            return try await io.run {
                Array(try ProgressStore.loadRecords(directory: try ProjectDirectory(url: project), style: style).values)
            }
        } catch let error as EngineError {
            throw error
        } catch {
            throw EngineError(.io, "cannot read the progress of style \(style) in \(project.path): \(error)")
        }
    }
}
