import ImageGenWire
import ImageGenTestSupport
import Testing

@Suite("Round trips of the generation messages", .timeLimit(.minutes(1)), .hangWatchdog)
struct GenerationRoundTripTests {
    /// Every generation message with its default value and a maximal one.
    static let cases: [RoundTripCase] = [
        RoundTripCase("Beat default", Beat()),
        RoundTripCase("Beat max", Beat(id: Samples.longString, prompt: Samples.longString, transition: .continue)),
        RoundTripCase("Shot default", Shot()),
        RoundTripCase("Shot max", Shot(id: "s", beats: (0..<10_000).map { Beat(id: "b\($0)", prompt: "p") })),
        RoundTripCase("Storyboard default", Storyboard()),
        RoundTripCase("Storyboard empty shots", Storyboard(shots: [Shot(), Shot()])),
        RoundTripCase("Storyboard max", Samples.maxStoryboard),
        RoundTripCase("GenerationOptions default", GenerationOptions()),
        RoundTripCase("GenerationOptions max", GenerationOptions(force: true, maxConcurrency: .max)),
        RoundTripCase("GenerationOptions online", GenerationOptions(delivery: .online)),
        RoundTripCase("GenerationOptions batch with a deadline", GenerationOptions(delivery: .batch, batchDeadlineSeconds: 0.25)),
        RoundTripCase("GenerationOptions auto max", GenerationOptions(force: true, maxConcurrency: .max, delivery: .auto, batchDeadlineSeconds: .greatestFiniteMagnitude)),
        RoundTripCase("BatchProgress default", BatchProgress()),
        RoundTripCase("BatchProgress max", BatchProgress(wave: .max, batches: .max, state: "running", requestCount: .max, succeeded: .max, failed: .max, pending: .max)),
        RoundTripCase("StyleProgress in batch", StyleProgress(style: "clear", total: 9, inBatch: 7, batch: BatchProgress(wave: 2, batches: 1, state: "pending", requestCount: 7, pending: 7))),
        RoundTripCase("StyleProgress in batch, empty wave", StyleProgress(style: "clear", batch: BatchProgress())),
        RoundTripCase("Usage batch and cost", Usage(requests: 9, images: 8, batchRequests: .max, batchImages: .max, estimatedCostUSD: 1.809, wastedCostUSD: 0.067)),
        RoundTripCase("BeatStatus lane and cost", BeatStatus(style: "clear", state: .inBatch, lane: "batch", batch: "imagegen 0123 clear w1 #1 batches/x", billedRequests: .max, estimatedCostUSD: 0.0335)),
        RoundTripCase("BeatEvent in batch", BeatEvent(style: "clear", shotID: "1", beatID: "1.1", state: .inBatch, batch: "imagegen 0123 clear w1 #1")),
        RoundTripCase("StartGenerationRequest default", StartGenerationRequest()),
        RoundTripCase("StartGenerationRequest max", Samples.maxStartGenerationRequest),
        RoundTripCase("WatchJobRequest default", WatchJobRequest()),
        RoundTripCase("WatchJobRequest max", WatchJobRequest(jobID: Samples.longString, afterSeq: .max)),
        RoundTripCase("GetStatusRequest default", GetStatusRequest()),
        RoundTripCase("GetStatusRequest includeBeats", GetStatusRequest(includeBeats: true)),
        RoundTripCase("JobRequest default", JobRequest()),
        RoundTripCase("JobRequest max", JobRequest(jobID: Samples.longString)),
        RoundTripCase("ListJobsRequest", ListJobsRequest()),
        RoundTripCase("ListJobsResponse default", ListJobsResponse()),
        RoundTripCase("ListJobsResponse empty jobs", ListJobsResponse(jobs: Array(repeating: JobStatus(), count: 1_000))),
        RoundTripCase("ListJobsResponse max", ListJobsResponse(jobs: [Samples.maxJobStatus, JobStatus(jobID: "j2")])),
        RoundTripCase("ListServersRequest", ListServersRequest()),
        RoundTripCase("ListServersResponse default", ListServersResponse()),
        RoundTripCase("ListServersResponse alone", ListServersResponse(servers: [ServerInfo(serverID: "imagegen", thisServer: true)])),
        RoundTripCase(
            "ListServersResponse max",
            ListServersResponse(
                servers: [
                    ServerInfo(
                        serverID: Samples.longString, address: "[::1]:65535", seenUnixMs: .max, thisServer: true,
                        jobs: (0..<1_000).map { ServerJob(jobID: "job-\($0)", projectDir: Samples.longString, leaseExpiresUnixMs: .min) }),
                    ServerInfo(serverID: "b", seenUnixMs: -1, jobs: [ServerJob()]),
                ],
                coordinated: true, coordinationProblem: Samples.longString)),
        RoundTripCase("ServerJob default", ServerJob()),
        RoundTripCase("ServerInfo default", ServerInfo()),
        RoundTripCase("StyleProgress default", StyleProgress()),
        RoundTripCase("StyleProgress max", Samples.maxStyleProgress),
        RoundTripCase("StyleProgress negative percent", StyleProgress(percent: -0.5)),
        RoundTripCase("StyleProgress infinite percent", StyleProgress(percent: .infinity)),
        RoundTripCase("StyleProgress tiny percent", StyleProgress(percent: .leastNonzeroMagnitude)),
        RoundTripCase("Usage default", Usage()),
        RoundTripCase("Usage max", Samples.maxUsage),
        RoundTripCase("BeatStatus default", BeatStatus()),
        RoundTripCase("BeatStatus max", Samples.maxBeatStatus),
        RoundTripCase("JobStatus default", JobStatus()),
        RoundTripCase("JobStatus jobID only", JobStatus(jobID: "j1")),
        RoundTripCase("JobStatus max", Samples.maxJobStatus),
        RoundTripCase("StyleSummary default", StyleSummary()),
        RoundTripCase("StyleSummary max", Samples.maxStyleSummary),
        RoundTripCase("JobAccepted default", JobAccepted()),
        RoundTripCase("JobAccepted max", Samples.maxJobAccepted),
        RoundTripCase("BeatEvent default", BeatEvent()),
        RoundTripCase("BeatEvent max", Samples.maxBeatEvent),
        RoundTripCase("KeyEvent default", KeyEvent()),
        RoundTripCase("KeyEvent max", Samples.maxKeyEvent),
        RoundTripCase("JobFinished default", JobFinished()),
        RoundTripCase("JobFinished max", Samples.maxJobFinished),
        RoundTripCase("ProgressEvent default", ProgressEvent()),
        RoundTripCase(
            "ProgressEvent max",
            ProgressEvent(seq: .max, jobID: Samples.longString, timeUnixMs: .min, kind: .finished(Samples.maxJobFinished))),
    ]

    @Test("default and maximal values", arguments: cases)
    func roundTrip(_ testCase: RoundTripCase) throws {
        try testCase.run()
    }

    @Test("Beat with every transition", arguments: Transition.allCases)
    func beat(transition: Transition) throws {
        try expectRoundTrip(Beat(id: "b1", prompt: "a cat", transition: transition))
    }

    @Test("BeatEvent and BeatStatus with every state", arguments: BeatEvent.State.allCases)
    func beatState(state: BeatEvent.State) throws {
        try expectRoundTrip(BeatEvent(style: "ink", shotID: "s1", beatID: "b1", state: state, attempt: 2))
        try expectRoundTrip(BeatStatus(style: "ink", shotID: "s1", beatID: "b1", state: state, attempts: 2))
        try expectRoundTrip(JobStatus(jobID: "j", beats: [BeatStatus(state: state)]))
    }

    @Test("KeyEvent with every state", arguments: KeyEvent.State.allCases)
    func keyState(state: KeyEvent.State) throws {
        try expectRoundTrip(
            KeyEvent(style: "ink", keyLabel: "ink#1…abcd", state: state, coolDownMs: 60_000, project: "film-a",
                     model: "gemini-3.1-flash-image"))
        try expectRoundTrip(ProgressEvent(seq: 3, jobID: "j", kind: .key(KeyEvent(state: state))))
    }

    /// The quota (project, model) was added to KeyEvent as new fields 6 and 7: an older peer's
    /// event (fields 1-5) still decodes, and the new fields go out under those numbers.
    @Test func keyEventQuotaFieldsAreSixAndSeven() throws {
        let old = KeyEvent(style: "ink", keyLabel: "ink#1…abcd", state: .cooling, coolDownMs: 1_000, reason: "429")
        var quota = old
        quota.project = "p"
        quota.model = "m"
        let bytes = quota.serializedBytes()
        #expect(Array(bytes.suffix(6)) == [0x32, 1, UInt8(ascii: "p"), 0x3A, 1, UInt8(ascii: "m")])
        #expect(try KeyEvent(serializedBytes: old.serializedBytes(), limits: .default) == old)
        #expect(Array(bytes.prefix(bytes.count - 6)) == old.serializedBytes())
    }

    @Test("JobStatus and JobFinished with every job state", arguments: JobState.allCases)
    func jobState(state: JobState) throws {
        try expectRoundTrip(JobStatus(jobID: "j1", state: state))
        try expectRoundTrip(JobFinished(state: state))
    }

    @Test("GetStatusRequest with every target", arguments: [
        nil, GetStatusRequest.Target.jobID(""), .jobID("job-1"), .projectDir(""), .projectDir("projects/🎬 film"),
        .jobID(Samples.longString),
    ])
    func getStatus(target: GetStatusRequest.Target?) throws {
        for includeBeats in [false, true] {
            try expectRoundTrip(GetStatusRequest(target: target, includeBeats: includeBeats))
        }
    }

    @Test("ProgressEvent with every kind", arguments: Samples.progressKinds.map(\.0))
    func progressEvent(kindName: String) throws {
        let kind = try #require(Samples.progressKinds.first { $0.0 == kindName }).1
        try expectRoundTrip(ProgressEvent(seq: 1, jobID: "job-1", timeUnixMs: 1_700_000_000_000, kind: kind))
        try expectRoundTrip(ProgressEvent(seq: .max, jobID: "", timeUnixMs: .min, kind: kind))
    }

    @Test("StartGenerationRequest: an absent storyboard and an empty one stay apart")
    func storyboardPresence() throws {
        let absent = StartGenerationRequest(projectDir: "p")
        let empty = StartGenerationRequest(projectDir: "p", storyboard: Storyboard())
        #expect(absent.serializedBytes() != empty.serializedBytes())
        #expect(try StartGenerationRequest(serializedBytes: absent.serializedBytes()).storyboard == nil)
        #expect(try StartGenerationRequest(serializedBytes: empty.serializedBytes()).storyboard == Storyboard())
        try expectRoundTrip(absent)
        try expectRoundTrip(empty)
    }

    @Test("Absent Usage and GenerationOptions sub-messages read as their defaults")
    func absentSubMessagesReadAsDefaults() throws {
        // job_id = "j1" only: no usage field on the wire.
        let status = try JobStatus(serializedBytes: ProtobufBytes.lengthDelimited(1, Array("j1".utf8)))
        #expect(status == JobStatus(jobID: "j1"))
        #expect(status.usage == Usage())
        #expect(try JobFinished(serializedBytes: []).usage == Usage())
        #expect(try StyleSummary(serializedBytes: []).usage == Usage())
        #expect(try StartGenerationRequest(serializedBytes: []).options == GenerationOptions())
        // A present-but-empty Usage or GenerationOptions decodes as the default too.
        #expect(try JobStatus(serializedBytes: ProtobufBytes.lengthDelimited(10, [])) == JobStatus())
        #expect(try StartGenerationRequest(serializedBytes: ProtobufBytes.lengthDelimited(4, [])) == StartGenerationRequest())
    }

    @Test("Default Usage and GenerationOptions are not sent; others are")
    func defaultSubMessagesAreOmitted() {
        #expect(JobStatus(jobID: "j1").serializedBytes() == ProtobufBytes.lengthDelimited(1, Array("j1".utf8)))
        #expect(StartGenerationRequest(projectDir: "p").serializedBytes() == ProtobufBytes.lengthDelimited(1, [0x70]))
        #expect(JobFinished().serializedBytes().isEmpty)
        #expect(StyleSummary().serializedBytes().isEmpty)
        #expect(JobFinished(usage: Usage(images: 1)).serializedBytes() == ProtobufBytes.lengthDelimited(3, ProtobufBytes.varintField(2, 1)))
        #expect(
            StartGenerationRequest(options: GenerationOptions(force: true)).serializedBytes()
                == ProtobufBytes.lengthDelimited(4, ProtobufBytes.varintField(1, 1)))
    }

    @Test("Field numbers match the schema")
    func fieldNumbers() {
        // seq = 1 (varint), job_id = 2, message = 8: checks the generated mapping end to end.
        let event = ProgressEvent(seq: 5, jobID: "j", kind: .message("hi"))
        #expect(
            event.serializedBytes()
                == ProtobufBytes.varintField(1, 5) + ProtobufBytes.lengthDelimited(2, [0x6A])
                + ProtobufBytes.lengthDelimited(8, Array("hi".utf8)))
        #expect(WatchJobRequest(jobID: "", afterSeq: 300).serializedBytes() == ProtobufBytes.varintField(2, 300))
        #expect(Beat(transition: .hardCut).serializedBytes() == ProtobufBytes.varintField(3, 1))
    }
}
