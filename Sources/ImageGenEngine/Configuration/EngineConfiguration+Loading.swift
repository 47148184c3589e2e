public import Foundation

extension EngineConfiguration {
    /// Loads the configuration: built-in defaults, then the JSON `file` (if any), then the
    /// environment (`IMAGEGEN_KEYS_<STYLE>`, `IMAGEGEN_GEMINI_BASE_URL`, `IMAGEGEN_KEY_RPM`,
    /// `IMAGEGEN_OFFLINE_LATENCY_MS`, `IMAGEGEN_OFFLINE_RENDER_LOG`). Every problem is reported at
    /// once in an ``EngineError`` with code `.invalidConfiguration`; key secrets never appear in it.
    /// Blocking (a small file read): call it at start-up.
    public static func load(file: URL?, environment: [String: String]) throws(EngineError) -> EngineConfiguration {
        var loader = ConfigurationLoader()
        if let file {
            let data: Data
            do { data = try Data(contentsOf: file) } catch {
                throw EngineError(
                    .invalidConfiguration, "cannot read configuration file \(file.path): \(error.localizedDescription)")
            }
            loader.apply(fileData: data, source: file.lastPathComponent)
        }
        loader.apply(environment: environment)
        return try loader.finish()
    }

    /// Parses a configuration from JSON text plus an environment (for tests and embedding).
    public static func parse(json data: Data, environment: [String: String] = [:]) throws(EngineError)
        -> EngineConfiguration
    {
        var loader = ConfigurationLoader()
        loader.apply(fileData: data, source: "configuration")
        loader.apply(environment: environment)
        return try loader.finish()
    }
}
