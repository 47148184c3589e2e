import Foundation

/// One beat of one style as the dispatcher sees it: the templated prompt, where its image goes,
/// which references it gets, and the part of its fingerprint known before it runs.
struct PlannedBeat: Sendable {
    let index: Int
    let shot: String
    let beat: String
    /// The prompt after the style's template.
    let prompt: String
    /// "generated_images/<style>/Shot_<shot>/Beat_<beat>" without extension.
    let relativeStem: String
    /// Attach the style reference (hard cut or first beat).
    let attachStyleReference: Bool
    /// The plan index of the previous beat of the same shot whose image is attached (continuity).
    let predecessor: Int?
    let predecessorID: String?
    /// SHA-256 over everything but the predecessor's image.
    let baseFingerprint: String

    /// The fingerprint once the predecessor image (if any) is known.
    func fingerprint(predecessorSHA: String?) -> String {
        guard let predecessorSHA else { return baseFingerprint }
        return DurableFiles.sha256Hex(Data((baseFingerprint + "\npredecessor:" + predecessorSHA).utf8))
    }

    static func baseFingerprint(style: StyleConfiguration, prompt: String, styleReferenceSHA: String?) -> String {
        let parts = [
            "imagegen-fingerprint-v1", "prompt:" + prompt, "template:" + style.promptTemplate, "model:" + style.model,
            "aspectRatio:" + (style.aspectRatio ?? "-"), "imageSize:" + (style.imageSize ?? "-"),
            "styleReference:" + (styleReferenceSHA ?? "-"), "continuity:\(style.continuity)",
        ]
        return DurableFiles.sha256Hex(Data(parts.joined(separator: "\n").utf8))
    }
}
