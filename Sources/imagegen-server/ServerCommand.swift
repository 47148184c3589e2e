import ArgumentParser
import ImageGenRPC
import ImageGenServerRuntime

/// `imagegen-server`: serves the imagegen RPC protocol on TCP until SIGTERM or SIGINT.
@main
struct ServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "imagegen-server",
        abstract: "Serve the imagegen RPC protocol (length-prefixed protobuf frames over TCP).",
        discussion: """
            The auth token is read from the environment variable IMAGEGEN_AUTH_TOKEN (never from a flag: \
            flags show in `ps`). When it is set, every call must carry metadata "authorization: Bearer <token>".
            Once the server accepts connections it prints one line "listening on HOST:PORT" on stdout; with \
            --metrics-listen, a line "metrics listening on HOST:PORT" follows (Prometheus text on GET /metrics, \
            no authentication: a non-loopback address needs --allow-unauthenticated).
            """)

    @OptionGroup var server: ServerOptions
    @OptionGroup var generation: GenerationServerOptions

    func run() async throws {
        try await generation.serve(with: server, label: "imagegen-server")
    }
}
