import ArgumentParser
import ImageGenCLI

/// `imagegen`: the command-line tool of imagegen.
@main
struct ImageGenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "imagegen",
        abstract: "Render storyboards into images in several styles at once, and follow the progress.",
        discussion: """
            Commands that talk to a server take --server HOST:PORT (default \(ClientOptions.defaultServer)) and read \
            the auth token from IMAGEGEN_AUTH_TOKEN. Exit codes: 0 all done; 2 some beats failed; 3 the job failed; \
            4 the job was cancelled; 130 detached with Ctrl-C (the job goes on); 1 any other error.
            """,
        subcommands: [
            DemoCommand.self, GenerateCommand.self, WatchCommand.self, StatusCommand.self, CancelCommand.self,
            PauseCommand.self, ResumeCommand.self, JobsCommand.self, ServersCommand.self, SheetCommand.self, EstimateCommand.self, ServeCommand.self,
        ])
}
