public import ImageGenWire

extension RPCClient {
    /// How a client connects and reads: every field has the default the client has always used.
    ///
    /// ```swift
    /// var configuration = RPCClient.Configuration()
    /// configuration.connectTimeout = .seconds(2)
    /// let client = try await RPCClient.connect(host: "127.0.0.1", port: 7420, configuration: configuration)
    /// ```
    public struct Configuration: Sendable {
        /// The largest frame accepted from the server, checked before anything is buffered.
        public var maxFrameBytes: Int
        /// Bounds on decoding one frame or response.
        public var decodeLimits: DecodeLimits
        /// How long connecting may take before it fails with UNAVAILABLE.
        public var connectTimeout: Duration
        /// A frame from the server must arrive whole within this long of its first byte.
        public var frameTimeout: Duration
        /// How long past a call's timeout the client waits for the server's status before it ends
        /// the call itself with DEADLINE_EXCEEDED (a server that never answers still ends the call).
        public var statusGracePeriod: Duration
        /// The timeout typed clients (ImageGenClient's `ImageGenerationClient`) give the unary calls
        /// of a service (status, cancel, pause, resume, list) when the caller gives none.
        public var unaryCallTimeout: Duration
        /// The timeout of a health check.
        public var healthCheckTimeout: Duration

        public init(
            maxFrameBytes: Int = FrameHeader.defaultMaxFrameBytes,
            decodeLimits: DecodeLimits = .default,
            connectTimeout: Duration = .seconds(10),
            frameTimeout: Duration = .seconds(30),
            statusGracePeriod: Duration = .seconds(1),
            unaryCallTimeout: Duration = .seconds(30),
            healthCheckTimeout: Duration = .seconds(10)
        ) {
            self.maxFrameBytes = maxFrameBytes
            self.decodeLimits = decodeLimits
            self.connectTimeout = connectTimeout
            self.frameTimeout = frameTimeout
            self.statusGracePeriod = statusGracePeriod
            self.unaryCallTimeout = unaryCallTimeout
            self.healthCheckTimeout = healthCheckTimeout
        }
    }
}
