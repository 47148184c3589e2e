internal import CImageGenWire

/// The request of `imagegen.v1.ImageGeneration/StartGeneration`.
public struct StartGenerationRequest: WireMessage {
    /// Relative to, or inside, the server's projects root.
    public var projectDir: String
    /// nil (absent on the wire): the server reads storyboard.json in the project. An empty
    /// `Storyboard()` is different: it is sent, and round-trips as present.
    public var storyboard: Storyboard?
    /// Empty: every configured style.
    public var styles: [String]
    /// Absent on the wire reads as `GenerationOptions()` (the same meaning); sent only when it
    /// differs from `GenerationOptions()`.
    public var options: GenerationOptions
    /// End the stream OK after the first (accepted) event.
    public var detach: Bool
    /// Optional idempotency key; empty for none.
    public var requestID: String

    public init(
        projectDir: String = "", storyboard: Storyboard? = nil, styles: [String] = [],
        options: GenerationOptions = GenerationOptions(), detach: Bool = false, requestID: String = ""
    ) {
        self.projectDir = projectDir
        self.storyboard = storyboard
        self.styles = styles
        self.options = options
        self.detach = detach
        self.requestID = requestID
    }

    public init(serializedBytes bytes: [UInt8], limits: DecodeLimits) throws {
        try self.init(unpacking: bytes, limits: limits, name: "StartGenerationRequest")
    }

    public func serializedBytes() -> [UInt8] { packedBytes() }
}

extension StartGenerationRequest: ProtobufCConvertible {
    typealias CMessage = Imagegen__V1__StartGenerationRequest

    static func initialize(_ message: UnsafeMutablePointer<CMessage>) {
        imagegen__v1__start_generation_request__init(message)
    }

    func fill(_ c: UnsafeMutablePointer<CMessage>, arena: CArena) {
        c.pointee.project_dir = arena.string(projectDir)
        c.pointee.storyboard = arena.optionalMessage(storyboard)
        (c.pointee.n_styles, c.pointee.styles) = arena.strings(styles)
        c.pointee.options = arena.message(options, unlessEqualTo: GenerationOptions())
        c.pointee.detach = detach.protobufC
        c.pointee.request_id = arena.string(requestID)
    }

    init(c: CMessage) throws {
        projectDir = try CField.string(c.project_dir, "StartGenerationRequest.project_dir")
        storyboard = try CField.message(c.storyboard, as: Storyboard.self)
        styles = try CField.strings(c.n_styles, c.styles, "StartGenerationRequest.styles")
        options = try CField.message(c.options, as: GenerationOptions.self) ?? GenerationOptions()
        detach = CField.bool(c.detach)
        requestID = try CField.string(c.request_id, "StartGenerationRequest.request_id")
    }
}
