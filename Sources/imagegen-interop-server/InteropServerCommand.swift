import ArgumentParser
import ImageGenInterop
import ImageGenServerRuntime

/// `imagegen-interop-server`: the RPC server with only the interop test service, for testing
/// clients in other languages against the real protocol implementation.
@main
struct InteropServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "imagegen-interop-server",
        abstract: "Serve the interop test service (test.v1.Test/*) and Health, for client tests.")

    @OptionGroup var server: ServerOptions

    func run() async throws {
        server.bootstrapLogging()
        try await server.serve(router: TestService.router(), label: "imagegen-interop-server")
    }
}
