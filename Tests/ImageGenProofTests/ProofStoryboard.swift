import Foundation

/// A storyboard as the server reads it from `storyboard.json`: shots of beats, each with a unique prompt.
struct ProofStoryboard: Sendable {
    /// One beat: id, prompt, transition (`cut`, `hard_cut` or `continue`).
    typealias Beat = (id: String, prompt: String, transition: String)

    var shots: [(id: String, beats: [Beat])]

    /// `shots` × `beats`, every prompt distinct; shots open with a hard cut, then alternate `continue` and `cut`.
    static func grid(shots: Int, beats: Int, subject: String) -> ProofStoryboard {
        ProofStoryboard(
            shots: (1...shots).map { shot in
                (
                    id: "\(shot)",
                    beats: (1...beats).map { beat in
                        (
                            id: "\(shot).\(beat)",
                            prompt: "\(subject), shot \(shot), beat \(beat)",
                            transition: beat == 1 ? "hard_cut" : (beat % 2 == 0 ? "continue" : "cut")
                        )
                    }
                )
            })
    }

    var beatCount: Int { shots.reduce(0) { $0 + $1.beats.count } }

    func jsonData() throws -> Data {
        let object: [String: Any] = [
            "shots": shots.map { shot in
                [
                    "id": shot.id,
                    "beats": shot.beats.map { ["id": $0.id, "prompt": $0.prompt, "transition": $0.transition] },
                ] as [String: Any]
            }
        ]
        return try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
    }
}
