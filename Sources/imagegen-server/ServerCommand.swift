import ArgumentParser
import ImageGenRPC
import ImageGenServerRuntime
import Logging

/// `imagegen-server`: serves the imagegen RPC protocol on TCP until SIGTERM or SIGINT.
@main
struct ServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "imagegen-server",
        abstract: "Serve the imagegen RPC protocol (length-prefixed protobuf frames over TCP).",
        discussion: """
            The auth token is read from the environment variable IMAGEGEN_AUTH_TOKEN (never from a flag: \
            flags show in `ps`). When it is set, every call must carry metadata "authorization: Bearer <token>".
            Once the server accepts connections it prints one line "listening on HOST:PORT" on stdout.
            """)

    @OptionGroup var server: ServerOptions
    @OptionGroup var generation: GenerationServerOptions

    func run() async throws {
        server.bootstrapLogging()
        let logger = Logger(label: "imagegen-server")
        let assembly = try generation.assemble(logger: logger)
        try await server.serve(
            router: assembly.router, label: "imagegen-server", services: assembly.services,
            announce: assembly.announcements, logger: logger)
    }
}
