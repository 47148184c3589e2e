internal import CImageGenWire

/// An API key of a style changed state (`imagegen.v1.KeyEvent`).
public struct KeyEvent: WireMessage {
    /// Where a key stands (`imagegen.v1.KeyEvent.State`).
    public enum State: Int32, Sendable, Hashable, CaseIterable {
        /// Not set.
        case unspecified = 0
        /// Usable.
        case ready = 1
        /// Rate limited: usable again after `coolDownMs`.
        case cooling = 2
        /// Per-day quota spent: set aside for the rest of the job.
        case exhausted = 3
        /// Invalid or forbidden.
        case disabled = 4
    }

    /// The style the key belongs to.
    public var style: String
    /// "style#index…last4", never the key.
    public var keyLabel: String
    /// The key's new state.
    public var state: State
    /// How long the key cools down, in milliseconds.
    public var coolDownMs: UInt64
    /// Why the key changed state.
    public var reason: String
    /// The Google Cloud project of the key: with `model`, the quota it spends.
    public var project: String
    /// The style's model, e.g. "gemini-3.1-flash-image".
    public var model: String

    public init(
        style: String = "", keyLabel: String = "", state: State = .unspecified, coolDownMs: UInt64 = 0,
        reason: String = "", project: String = "", model: String = ""
    ) {
        self.style = style
        self.keyLabel = keyLabel
        self.state = state
        self.coolDownMs = coolDownMs
        self.reason = reason
        self.project = project
        self.model = model
    }

    public init(serializedBytes bytes: [UInt8], limits: DecodeLimits) throws {
        try self.init(unpacking: bytes, limits: limits, name: "KeyEvent")
    }

    public func serializedBytes() -> [UInt8] { packedBytes() }
}

extension KeyEvent.State: ProtobufCEnum {}

extension KeyEvent: ProtobufCConvertible {
    typealias CMessage = Imagegen__V1__KeyEvent

    static func initialize(_ message: UnsafeMutablePointer<CMessage>) { imagegen__v1__key_event__init(message) }

    func fill(_ c: UnsafeMutablePointer<CMessage>, arena: CArena) {
        c.pointee.style = arena.string(style)
        c.pointee.key_label = arena.string(keyLabel)
        c.pointee.state = state.cValue()
        c.pointee.cool_down_ms = coolDownMs
        c.pointee.reason = arena.string(reason)
        c.pointee.project = arena.string(project)
        c.pointee.model = arena.string(model)
    }

    init(c: CMessage) throws {
        style = try CField.string(c.style, "KeyEvent.style")
        keyLabel = try CField.string(c.key_label, "KeyEvent.key_label")
        state = try State(c: c.state, "KeyEvent.state")
        coolDownMs = c.cool_down_ms
        reason = try CField.string(c.reason, "KeyEvent.reason")
        project = try CField.string(c.project, "KeyEvent.project")
        model = try CField.string(c.model, "KeyEvent.model")
    }
}
