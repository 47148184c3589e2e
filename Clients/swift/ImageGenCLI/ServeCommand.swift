public import ArgumentParser
public import ImageGenServerRuntime

/// `imagegen serve`: the same as `imagegen-server`.
public struct ServeCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "serve", abstract: "Run the imagegen server (the same as imagegen-server).")

    @OptionGroup public var server: ServerOptions
    @OptionGroup public var generation: GenerationServerOptions

    public init() {}

    public func run() async throws {
        try await generation.serve(with: server, label: "imagegen-server")
    }
}
