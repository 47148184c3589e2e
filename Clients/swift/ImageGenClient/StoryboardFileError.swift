/// Why a storyboard file could not be read, in words a person can act on.
public struct StoryboardFileError: Error, CustomStringConvertible, Sendable {
    public let description: String

    init(_ description: String) {
        self.description = String(description.prefix(2_000))
    }
}
