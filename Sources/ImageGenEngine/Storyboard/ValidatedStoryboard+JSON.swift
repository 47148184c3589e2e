public import Foundation

extension ValidatedStoryboard {
    /// Parses `{"shots":[{"id":"1","beats":[{"id":"1.1","prompt":"…","transition":"hard_cut"}]}]}`.
    /// `transition` is optional (`cut`, `hard_cut` or `continue`). Every problem found is reported
    /// in one ``EngineError`` with code `.invalidStoryboard`; `limits` caps beats and prompt bytes.
    public static func parse(json data: Data, limits: StoryboardLimits = .unlimited) throws(EngineError) -> ValidatedStoryboard {
        let root: Any
        do {
            root = try JSONSerialization.jsonObject(with: data, options: [])
        } catch {
            throw EngineError(
                .invalidStoryboard, "storyboard is not valid JSON",
                problems: ["\(error.localizedDescription)"])
        }
        var problems: [String] = []
        guard let object = root as? [String: Any] else {
            throw EngineError(.invalidStoryboard, "storyboard has 1 problem", problems: ["the top level must be an object with \"shots\""])
        }
        guard let rawShots = object["shots"] as? [Any] else {
            throw EngineError(.invalidStoryboard, "storyboard has 1 problem", problems: ["\"shots\" must be an array"])
        }
        var shots: [Shot] = []
        for (shotIndex, rawShot) in rawShots.enumerated() {
            guard let shotObject = rawShot as? [String: Any] else {
                problems.append("shot #\(shotIndex + 1): must be an object")
                continue
            }
            let shotID = shotObject["id"] as? String
            if shotID == nil { problems.append("shot #\(shotIndex + 1): \"id\" must be a string") }
            let shotName = shotID.flatMap { isValidID($0) ? $0 : nil } ?? "#\(shotIndex + 1)"
            var beats: [Beat] = []
            if let rawBeats = shotObject["beats"] as? [Any] {
                for (beatIndex, rawBeat) in rawBeats.enumerated() {
                    guard let beatObject = rawBeat as? [String: Any] else {
                        problems.append("shot \(shotName), beat #\(beatIndex + 1): must be an object")
                        continue
                    }
                    let beatID = beatObject["id"] as? String
                    let beatName = beatID.flatMap { isValidID($0) ? $0 : nil } ?? "#\(beatIndex + 1)"
                    let place = "shot \(shotName), beat \(beatName)"
                    if beatID == nil { problems.append("\(place): \"id\" must be a string") }
                    let prompt = beatObject["prompt"] as? String
                    if prompt == nil { problems.append("\(place): \"prompt\" must be a string") }
                    var transition = Transition.cut
                    if let rawTransition = beatObject["transition"], !(rawTransition is NSNull) {
                        if let name = rawTransition as? String, let value = Transition(rawValue: name) {
                            transition = value
                        } else {
                            problems.append("\(place): transition must be one of cut, hard_cut, continue")
                        }
                    }
                    beats.append(Beat(id: beatID ?? "", prompt: prompt ?? "", transition: transition))
                }
            } else {
                problems.append("shot \(shotName): \"beats\" must be an array")
            }
            if let shotID { shots.append(Shot(id: shotID, beats: beats)) }
        }
        // Rule checks on what could be read; skip the duplicates of "must be a string" problems.
        if !problems.isEmpty {
            var all = ProblemList()
            all.append(contentsOf: problems)
            let rules = Self.problems(in: shots, limits: limits)
            let ruleProblems = rules.listed.filter { problem in
                !(problem.hasSuffix("prompt is empty") && problems.contains { $0.hasPrefix(problem.replacingOccurrences(of: "prompt is empty", with: "")) })
                    && !(problem.contains("id \"\" is not allowed") && problems.contains { $0.hasPrefix(problem.components(separatedBy: ": id").first ?? problem) })
            }
            all.append(contentsOf: ruleProblems)
            all.addUnlisted(rules.unlisted)
            throw all.error(.invalidStoryboard, subject: "storyboard")
        }
        return try ValidatedStoryboard(shots: shots, limits: limits)
    }

    /// Reads and parses a storyboard file. Blocking (a small file read): call it at start-up or from
    /// a thread that may block, not from the middle of a busy async system.
    public static func load(contentsOf url: URL) throws(EngineError) -> ValidatedStoryboard {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw EngineError(.io, "cannot read storyboard \(url.path): \(error.localizedDescription)")
        }
        return try parse(json: data)
    }

    /// Reads and parses `storyboard.json` of a project through its confined folder; nil when the
    /// project has none. A link or special file in its place is refused (`.unsafePath`), and so is
    /// a file over `limit` bytes (`.inputTooLarge`); its beats and prompts are checked against
    /// `limits` like a storyboard sent in a request. Blocking: call it off the cooperative pool.
    public static func load(
        from project: ProjectDirectory, name: String = "storyboard.json", limit: Int, limits: StoryboardLimits = .unlimited
    ) throws(EngineError) -> ValidatedStoryboard? {
        guard let data = try project.readFile(name, limit: limit, limitName: "maxStoryboardBytes") else { return nil }
        return try parse(json: data, limits: limits)
    }
}
