public import ImageGenWire

/// Everything the RPC server can be told; every field has a sane default.
public struct RPCServerConfiguration: Sendable {
    /// Address to bind, e.g. "127.0.0.1".
    public var host: String
    /// Port to bind; 0 picks a free port (read it from `RPCServer.listeningAddress`).
    public var port: Int
    /// When set, every call must carry metadata `authorization: Bearer <token>`.
    public var authToken: String?
    /// The largest frame accepted, checked before anything is buffered.
    public var maxFrameBytes: Int
    /// Bounds on decoding one frame or request.
    public var decodeLimits: DecodeLimits
    /// Calls open at once on one connection; a call counts until its handler has exited.
    public var maxCallsPerConnection: Int
    /// Connections open at once; more are answered RESOURCE_EXHAUSTED and closed.
    public var maxConnections: Int
    /// A connection with no open call and nothing received for this long is closed.
    public var idleTimeout: Duration
    /// A frame must arrive whole within this long of its first byte.
    public var frameTimeout: Duration
    /// How long a graceful shutdown waits for open calls before it closes connections.
    public var shutdownGracePeriod: Duration
    /// The longest method name a call may name, in bytes; longer is refused with INVALID_ARGUMENT.
    public var maxMethodBytes: Int
    /// The most metadata entries one call may carry; more is refused with RESOURCE_EXHAUSTED.
    public var maxMetadataEntries: Int
    /// The most bytes of metadata (keys and values) one call may carry; more is refused with RESOURCE_EXHAUSTED.
    public var maxMetadataBytes: Int
    /// A connection that has not made an authenticated call within this long of opening is closed
    /// (pings do not count). Without a token, any call counts.
    public var authTimeout: Duration
    /// A peer that takes no byte for this long while the server has bytes for it is closed, and its calls end.
    public var writeStallTimeout: Duration
    /// Connections open at once from one remote address; more are answered RESOURCE_EXHAUSTED and closed.
    public var maxConnectionsPerAddress: Int
    /// Bytes held for all peers at once: frames being received and answers not yet taken by the
    /// socket. Past it, new connections, calls and frames are refused with RESOURCE_EXHAUSTED.
    public var bufferBudgetBytes: Int
    /// Told of every call's end (method, status, duration), for metrics; nil tells no one.
    public var callObserver: (any RPCCallObserver)?

    public init(
        host: String = "127.0.0.1",
        port: Int = 0,
        authToken: String? = nil,
        maxFrameBytes: Int = FrameHeader.defaultMaxFrameBytes,
        decodeLimits: DecodeLimits = .default,
        maxCallsPerConnection: Int = 128,
        maxConnections: Int = 1024,
        idleTimeout: Duration = .seconds(300),
        frameTimeout: Duration = .seconds(30),
        shutdownGracePeriod: Duration = .seconds(10),
        maxMethodBytes: Int = 256,
        maxMetadataEntries: Int = 64,
        maxMetadataBytes: Int = 16 * 1024,
        authTimeout: Duration = .seconds(10),
        writeStallTimeout: Duration = .seconds(30),
        maxConnectionsPerAddress: Int = 256,
        bufferBudgetBytes: Int = 256 * 1024 * 1024
    ) {
        self.host = host
        self.port = port
        self.authToken = authToken
        self.maxFrameBytes = maxFrameBytes
        self.decodeLimits = decodeLimits
        self.maxCallsPerConnection = maxCallsPerConnection
        self.maxConnections = maxConnections
        self.idleTimeout = idleTimeout
        self.frameTimeout = frameTimeout
        self.shutdownGracePeriod = shutdownGracePeriod
        self.maxMethodBytes = maxMethodBytes
        self.maxMetadataEntries = maxMetadataEntries
        self.maxMetadataBytes = maxMetadataBytes
        self.authTimeout = authTimeout
        self.writeStallTimeout = writeStallTimeout
        self.maxConnectionsPerAddress = maxConnectionsPerAddress
        self.bufferBudgetBytes = bufferBudgetBytes
    }
}
