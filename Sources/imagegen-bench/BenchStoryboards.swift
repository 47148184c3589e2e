import ImageGenEngine

/// The storyboards the benchmarks render.
enum BenchStoryboards {
    /// `beats` beats, all `cut` (no chains), in shots of at most `perShot` beats.
    static func cuts(beats: Int, perShot: Int = 100) throws(EngineError) -> ValidatedStoryboard {
        var shots: [ValidatedStoryboard.Shot] = []
        var made = 0
        while made < beats {
            let shot = shots.count + 1
            let count = min(perShot, beats - made)
            shots.append(
                ValidatedStoryboard.Shot(
                    id: "s\(shot)",
                    beats: (1...count).map { index in
                        ValidatedStoryboard.Beat(
                            id: "b\(shot).\(index)", prompt: "bench frame \(made + index) of shot \(shot)", transition: .cut)
                    }))
            made += count
        }
        return try ValidatedStoryboard(shots: shots)
    }

    /// `shots` shots of `beatsPerShot` beats, every beat `continue` (one chain per shot).
    static func chains(shots: Int, beatsPerShot: Int) throws(EngineError) -> ValidatedStoryboard {
        try ValidatedStoryboard(
            shots: (1...shots).map { shot in
                ValidatedStoryboard.Shot(
                    id: "s\(shot)",
                    beats: (1...beatsPerShot).map { index in
                        ValidatedStoryboard.Beat(
                            id: "b\(shot).\(index)", prompt: "chained frame \(index) of shot \(shot)", transition: .continue)
                    })
            })
    }
}
