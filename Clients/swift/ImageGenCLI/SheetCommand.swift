public import ArgumentParser
import Foundation
import ImageGenClient
import ImageGenEngine
import ImageGenWire

/// `imagegen sheet --project DIR`: writes the contact sheet of a project (no server needed).
public struct SheetCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "sheet", abstract: "Write an HTML contact sheet of a project: beats × styles.")

    @Option(name: .long, help: "The project directory.")
    public var project: String

    @Option(name: .long, help: "The storyboard (default: storyboard.json in the project).")
    public var storyboard: String?

    @Option(name: .long, help: "Comma-separated styles (default: illustration,clear,consistent).")
    public var styles: String = StyleConfiguration.defaults.map(\.name).joined(separator: ",")

    public init() {}

    public func run() async throws {
        let projectURL = URL(fileURLWithPath: project, isDirectory: true)
        let file = storyboard.map { URL(fileURLWithPath: $0) } ?? projectURL.appendingPathComponent("storyboard.json")
        let board: Storyboard
        do {
            board = try StoryboardFile.load(contentsOf: file)
        } catch {
            throw ValidationError("\(file.path): \(error.description)")
        }
        let names = styles.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        let url = try await ContactSheet.write(project: projectURL, storyboard: board, styles: names)
        writeToStandardOutput("contact sheet: \(url.path)\n")
    }
}
