public import ImageGenEngine
public import ImageGenWire

/// Storyboards between the engine's form (validated, read from JSON) and the wire's.
public enum StoryboardConversion {
    /// The wire form of a validated storyboard.
    public static func wire(_ storyboard: ValidatedStoryboard) -> Storyboard {
        Storyboard(
            shots: storyboard.shots.map { shot in
                Shot(
                    id: shot.id,
                    beats: shot.beats.map { beat in
                        let transition: Transition
                        switch beat.transition {
                        case .cut: transition = .cut
                        case .hardCut: transition = .hardCut
                        case .continue: transition = .continue
                        }
                        return Beat(id: beat.id, prompt: beat.prompt, transition: transition)
                    })
            })
    }
}
