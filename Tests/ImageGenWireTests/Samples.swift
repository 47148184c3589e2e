import ImageGenWire

/// Values for the tests: empty/default ones and maximal ones.
enum Samples {
    /// About 150 KB of text with non-ASCII letters, an emoji, a tab and a newline.
    static let longString = String(repeating: "Grüße 🎬\tok\n", count: 10_000)
    /// 1 MiB of every byte value.
    static let mebibyte = (0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
    /// Strings that C or a careless encoder could get wrong.
    static let trickyStrings = [
        "", "ascii", "héllo wörld", "tab\there", "line1\nline2\r\n", "🎬🔥👩‍👩‍👧", "日本語のテキスト", "\u{7F}\u{80}\u{FFFF}", "\u{10FFFF}",
    ]

    static let maxUsage = Usage(
        requests: .max, images: .max, wastedBilledAttempts: .max, unknownOutcomeAttempts: .max,
        promptTokens: .max, outputTokens: .max, totalTokens: .max)

    static let maxStyleProgress = StyleProgress(
        style: longString, total: .max, completed: .max, failed: .max, inFlight: .max,
        percent: .greatestFiniteMagnitude, keysTotal: .max, keysCooling: .max, keysDisabled: .max)

    static let maxBeatEvent = BeatEvent(
        style: longString, shotID: longString, beatID: longString, state: .retrying, attempt: .max,
        keyLabel: "style#7…a1b2", error: longString, outputPath: longString, bytes: .max,
        sha256: String(repeating: "f", count: 64))

    static let maxBeatStatus = BeatStatus(
        style: longString, shotID: "shot-1", beatID: "beat.9_Z", state: .done, attempts: .max,
        keyLabel: "style#7…a1b2", error: longString, outputPath: "/out/🎬.png", bytes: .max,
        sha256: String(repeating: "0", count: 64))

    static let maxKeyEvent = KeyEvent(
        style: longString, keyLabel: "style#0…zzzz", state: .disabled, coolDownMs: .max, reason: longString,
        project: longString, model: longString)

    static let maxStyleSummary = StyleSummary(
        style: longString, total: .max, done: .max, failed: .max, skipped: .max, durationMs: .max,
        usage: maxUsage, error: longString)

    static let maxStoryboard = Storyboard(
        shots: (0..<100).map { shot in
            Shot(
                id: "shot-\(shot)",
                beats: (0..<100).map { beat in
                    Beat(id: "s\(shot)b\(beat)", prompt: "prompt \(beat) 🎬", transition: Transition.allCases[beat % 3])
                })
        })

    static let maxJobStatus = JobStatus(
        jobID: longString, projectDir: longString, state: .completedWithErrors,
        styles: Array(repeating: maxStyleProgress, count: 3), message: longString, lastSeq: .max,
        createdUnixMs: .max, startedUnixMs: .min, finishedUnixMs: -1, usage: maxUsage,
        beats: (0..<5_000).map { BeatStatus(style: "s", shotID: "shot", beatID: "b\($0)", state: .failed, attempts: UInt32($0)) },
        coordinationProblem: longString)

    static let maxJobFinished = JobFinished(
        state: .cancelled, styles: Array(repeating: maxStyleSummary, count: 3), usage: maxUsage, message: longString)

    static let maxJobAccepted = JobAccepted(
        styles: (0..<10_000).map { StyleProgress(style: "style-\($0)", total: UInt32($0), percent: Double($0) / 3) },
        resumed: .max, attached: true)

    static let maxStartGenerationRequest = StartGenerationRequest(
        projectDir: longString, storyboard: maxStoryboard, styles: (0..<1_000).map { "style-\($0)-🎨" },
        options: GenerationOptions(force: true, maxConcurrency: .max), detach: true, requestID: longString)

    static let maxCallStart = CallStart(
        method: "imagegen.v1.ImageGeneration/" + longString, request: mebibyte, timeoutMilliseconds: .max,
        metadata: Dictionary(uniqueKeysWithValues: (0..<500).map { ("key-\($0)-ü", "value \($0) 🎬\t\n") }))

    /// Every `ProgressEvent.Kind`, empty and maximal.
    static let progressKinds: [(String, ProgressEvent.Kind?)] = [
        ("none", nil),
        ("accepted empty", .accepted(JobAccepted())),
        ("accepted max", .accepted(maxJobAccepted)),
        ("beat empty", .beat(BeatEvent())),
        ("beat max", .beat(maxBeatEvent)),
        ("style empty", .style(StyleProgress())),
        ("style max", .style(maxStyleProgress)),
        ("key empty", .key(KeyEvent())),
        ("key max", .key(maxKeyEvent)),
        ("message empty", .message("")),
        ("message max", .message(longString)),
        ("finished empty", .finished(JobFinished())),
        ("finished max", .finished(maxJobFinished)),
    ]

    /// Every `Frame.Kind`, empty and maximal.
    static let frameKinds: [(String, Frame.Kind?)] = [
        ("none", nil),
        ("start empty", .start(CallStart(method: ""))),
        ("start max", .start(maxCallStart)),
        ("message empty", .message([])),
        ("message 1 MiB", .message(mebibyte)),
        ("status empty", .status(CallStatus(code: 0, message: ""))),
        ("status max", .status(CallStatus(code: .max, message: longString))),
        ("cancel", .cancel),
        ("ping 0", .ping(nonce: 0)),
        ("ping max", .ping(nonce: .max)),
        ("pong 0", .pong(nonce: 0)),
        ("pong max", .pong(nonce: .max)),
        ("goAway empty", .goAway(reason: "")),
        ("goAway max", .goAway(reason: longString)),
    ]
}
