
/// How a beat relates to the one before it (`imagegen.v1.Transition`).
public enum Transition: Int32, Sendable, Hashable, CaseIterable {
    /// A new image, no reference attached unless it opens the storyboard.
    case cut = 0
    /// A new scene: the style reference image is attached.
    case hardCut = 1
    /// Continues the previous beat of the shot (chained where the style keeps continuity).
    case `continue` = 2
}

extension Transition: ProtobufCEnum {}
