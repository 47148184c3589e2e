/// An initialisation failure of the transport, turned into `ProviderFailure.configuration` by the provider.
struct CurlSetupError: Error {
    var message: String
    init(_ message: String) { self.message = message }
}
