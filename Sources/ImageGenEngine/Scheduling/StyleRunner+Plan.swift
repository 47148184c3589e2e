import Foundation

extension StyleRunner {
    /// What the plan does with a beat: skip it (its image is done and unchanged) or generate it.
    enum Decision: Sendable {
        case skip(BeatRecord)
        case generate
    }

    /// The style's beats in order, each with its decision, and the style reference to attach.
    struct Plan: Sendable {
        var beats: [PlannedBeat]
        var decisions: [Decision]
        var styleReference: ReferenceImage?
    }

    /// The style reference: `style_reference_<style>.png` if present, else `style_reference.png`.
    /// Anything but a regular file of at most `limit` bytes in their place is refused.
    static func loadStyleReference(project: ProjectDirectory, style: String, limit: Int) throws(EngineError)
        -> ReferenceImage?
    {
        for name in ["style_reference_\(style).png", "style_reference.png"] {
            if let data = try project.readFile(name, limit: limit, limitName: "maxReferenceImageBytes"), !data.isEmpty {
                return ReferenceImage(mimeType: ImageSniffer.pngOrJPEG(data) ?? "image/png", data: data)
            }
        }
        return nil
    }

    /// Size and SHA-256 of an image in the project, nil when it is missing or cannot be read;
    /// anything but a regular file in its place is refused.
    func fingerprintOfImage(_ relative: String) throws(EngineError) -> (bytes: Int, sha256: String)? {
        do {
            guard let data = try project.readFile(relative, limit: configuration.maxReferenceImageBytes,
                                                  limitName: "maxReferenceImageBytes") else { return nil }
            return (data.count, DurableFiles.sha256Hex(data))
        } catch {
            if error.code == .io || error.code == .inputTooLarge { return nil }
            throw error
        }
    }

    /// Decides which beats are done already. Blocking: runs on the I/O queue.
    func makePlan(store: ProgressStore) throws -> Plan {
        try makePlan(records: { store.record(shot: $0, beat: $1) }, removingTemporaryFiles: true)
    }

    /// Decides which beats are done already, by the records `records` finds; touches nothing on
    /// disk unless `removingTemporaryFiles` (a killed run's leftovers). Blocking.
    func makePlan(records: (String, String) -> BeatRecord?, removingTemporaryFiles: Bool) throws -> Plan {
        let reference = style.attachStyleReference
            ? try Self.loadStyleReference(project: project, style: style.name, limit: configuration.maxReferenceImageBytes)
            : nil
        let referenceSHA = reference.map { DurableFiles.sha256Hex($0.data) }
        var beats: [PlannedBeat] = []
        var decisions: [Decision] = []
        var first = true
        for shot in storyboard.shots {
            if removingTemporaryFiles {
                try Self.removeStaleTemporaryFiles(in: "generated_images/\(style.name)/Shot_\(shot.id)", of: project)
            }
            var previous: Int?
            for beat in shot.beats {
                let attachReference = reference != nil && (first || beat.transition == .hardCut)
                first = false
                let prompt = style.render(prompt: beat.prompt)
                let predecessor = style.continuity && beat.transition == .continue ? previous : nil
                let planned = PlannedBeat(
                    index: beats.count, shot: shot.id, beat: beat.id, prompt: prompt,
                    relativeStem: "generated_images/\(style.name)/Shot_\(shot.id)/Beat_\(beat.id)",
                    attachStyleReference: attachReference, predecessor: predecessor,
                    predecessorID: predecessor.map { beats[$0].beat },
                    baseFingerprint: PlannedBeat.baseFingerprint(
                        style: style, prompt: prompt, styleReferenceSHA: attachReference ? referenceSHA : nil))
                var decision = Decision.generate
                if !force, let record = records(shot.id, beat.id), record.state == .done,
                    let file = record.file, let sha = record.sha256, let bytes = record.bytes
                {
                    var predecessorSHA: String?
                    var predecessorKnown = true
                    if let predecessor {
                        if case .skip(let previousRecord) = decisions[predecessor] {
                            predecessorSHA = previousRecord.sha256
                        } else {
                            predecessorKnown = false
                        }
                    }
                    if predecessorKnown, record.fingerprint == planned.fingerprint(predecessorSHA: predecessorSHA),
                        let actual = try fingerprintOfImage(file),
                        actual.bytes == bytes, actual.sha256 == sha
                    {
                        decision = .skip(record)
                    }
                }
                beats.append(planned)
                decisions.append(decision)
                previous = planned.index
            }
        }
        return Plan(beats: beats, decisions: decisions, styleReference: reference)
    }

    /// Removes temporary files a killed run left behind (".Beat_x.png.tmp-…"); never a final path,
    /// and only regular files directly in `folder` (a link is never followed).
    static func removeStaleTemporaryFiles(in folder: String, of project: ProjectDirectory) throws {
        try project.removeFiles(in: folder) { name in name.hasPrefix(".") && name.contains(".tmp-") }
    }

    /// Queues the beats the plan generates (or sets them waiting on their predecessor) and counts the skipped.
    func queuePlannedBeats(_ state: inout RunState) {
        for (index, decision) in state.plan.decisions.enumerated() {
            let beat = state.beats[index]
            switch decision {
            case .skip(let record):
                state.skipped += 1
                state.files[index] = record.file
                state.fileBytes[index] = record.bytes
                event(beat, .skipped, path: record.file, bytes: record.bytes, sha: record.sha256)
            case .generate:
                if let batch = state.claimed[index] {
                    event(beat, .inBatch, path: beat.relativeStem + ".png", batch: batch)
                } else if let predecessor = beat.predecessor, case .generate = state.plan.decisions[predecessor] {
                    state.dependents[predecessor, default: []].append(index)
                    event(beat, .waiting, path: beat.relativeStem + ".png")
                } else {
                    state.route(index, front: false)
                    event(beat, .queued, path: beat.relativeStem + ".png")
                }
            }
        }
    }
}
