import Foundation
import ImageGenWire
import Testing

/// Runs the committed Python protobuf code and holds the samples both sides build.
enum PythonInterop {
    static let protoDirectory = packageRoot.appendingPathComponent("Clients/python/src/imagegen_client/proto").path

    static let available: Bool = succeeds(["python3", "-c", "import google.protobuf"])

    static let skipReason: Comment =
        "python3 -c 'import google.protobuf' failed: install python3 and the protobuf package to cross-check with Python"

    static func python(_ arguments: [String]) throws -> ProcessResult {
        try run(
            ["python3", "-c", script] + arguments,
            environment: ["PYTHONPATH": protoDirectory, "PYTHONUTF8": "1", "PYTHONIOENCODING": "utf-8"])
    }

    /// Python's encodings of every sample, by name (Python runs once for all the test cases).
    static let pythonEncodings = Result { try encodeWithPython() }

    private static func encodeWithPython() throws -> [String: String] {
        let result = try python(["encode"])
        guard result.status == 0 else { throw WireError(.malformed, "python failed: \(result.stderr)") }
        var encodings: [String: String] = [:]
        for line in result.stdout.split(separator: "\n") {
            let parts = line.split(separator: " ", omittingEmptySubsequences: false)
            if parts.count == 2 { encodings[String(parts[0])] = String(parts[1]) }
        }
        return encodings
    }

    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func bytes(hex: String) -> [UInt8]? {
        let digits = Array(hex.utf8)
        guard digits.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(digits.count / 2)
        for index in stride(from: 0, to: digits.count, by: 2) {
            guard let byte = UInt8(String(decoding: digits[index..<index + 2], as: UTF8.self), radix: 16) else { return nil }
            bytes.append(byte)
        }
        return bytes
    }

    static let storyboard = Storyboard(shots: [
        Shot(id: "s1", beats: [
            Beat(id: "b1", prompt: "a cat", transition: .hardCut),
            Beat(id: "b2", prompt: "the cat jumps 🐈", transition: .continue),
            Beat(id: "b3", prompt: "cut", transition: .cut),
        ]),
        Shot(id: "s2"),
    ])

    static let startRequest = StartGenerationRequest(
        projectDir: "films/🎬 première", storyboard: storyboard, styles: ["ink", "oil\tpaint"],
        options: GenerationOptions(force: true, maxConcurrency: 4), detach: true, requestID: "r-1")

    static let usage = Usage(
        requests: 10, images: 7, wastedBilledAttempts: 1, unknownOutcomeAttempts: 2, promptTokens: 300,
        outputTokens: 4000, totalTokens: .max)

    static let samples: [InteropSample] = [
        InteropSample("start", startRequest),
        InteropSample("start_no_storyboard", StartGenerationRequest(projectDir: "p")),
        InteropSample("start_empty_storyboard", StartGenerationRequest(projectDir: "p", storyboard: Storyboard())),
        InteropSample(
            "progress_accepted",
            ProgressEvent(seq: 1, jobID: "job-ü", timeUnixMs: 1_700_000_000_123, kind: .accepted(JobAccepted(
                styles: [StyleProgress(style: "ink", total: 3, completed: 1, failed: 0, inFlight: 2, percent: 33.5,
                                       keysTotal: 4, keysCooling: 1, keysDisabled: 1)],
                resumed: 1, attached: true)))),
        InteropSample(
            "progress_beat",
            ProgressEvent(seq: 2, jobID: "j", timeUnixMs: -1, kind: .beat(BeatEvent(
                style: "ink", shotID: "s1", beatID: "b1", state: .retrying, attempt: 3, keyLabel: "ink#1…abcd",
                error: "429 too many requests\n", outputPath: "out/b1.png", bytes: 12345,
                sha256: String(repeating: "ab", count: 32))))),
        InteropSample(
            "progress_style",
            ProgressEvent(seq: 3, jobID: "j", kind: .style(StyleProgress(style: "oil", total: .max, percent: 100)))),
        InteropSample(
            "progress_key",
            ProgressEvent(seq: 4, jobID: "j", kind: .key(KeyEvent(
                style: "ink", keyLabel: "ink#2…wxyz", state: .cooling, coolDownMs: 60_000, reason: "rate limited",
                project: "film-a", model: "gemini-3.1-flash-image")))),
        InteropSample("progress_message", ProgressEvent(seq: 5, jobID: "j", kind: .message("héllo 🎬"))),
        InteropSample(
            "progress_finished",
            ProgressEvent(seq: .max, jobID: "j", timeUnixMs: .min, kind: .finished(JobFinished(
                state: .completedWithErrors,
                styles: [StyleSummary(style: "ink", total: 10, done: 7, failed: 2, skipped: 1, durationMs: 123_456,
                                      usage: usage, error: "every key disabled")],
                usage: usage, message: "tab\tnewline\n")))),
        InteropSample(
            "job_status",
            JobStatus(
                jobID: "j1", projectDir: "p", state: .paused,
                styles: [StyleProgress(style: "ink", total: 2, completed: 1, percent: 50)], message: "paused",
                lastSeq: 42, createdUnixMs: 1, startedUnixMs: 2, finishedUnixMs: -3, usage: usage,
                beats: [BeatStatus(style: "ink", shotID: "s1", beatID: "b1", state: .done, attempts: 1, bytes: 9)])),
        InteropSample("get_status", GetStatusRequest(target: .projectDir("films/x"), includeBeats: true)),
        InteropSample(
            "frame_start",
            Frame(callID: .max, kind: .start(CallStart(
                method: "imagegen.v1.ImageGeneration/StartGeneration", request: startRequest.serializedBytes(),
                timeoutMilliseconds: 30_000, metadata: ["authorization": "Bearer t", "x-trace": "ü"])))),
        InteropSample("frame_status", Frame(callID: 3, kind: .status(CallStatus(code: 5, message: "not found: 🎬")))),
        InteropSample("frame_ping", Frame(callID: 0, kind: .ping(nonce: .max))),
        InteropSample("frame_message", Frame(callID: 9, kind: .message([0, 1, 2, 0xFF]))),
    ]

    /// Builds the same samples with the Python runtime. `encode`: prints "name hex" per sample.
    /// `check name=hex …`: parses each and prints "name ok" when it equals the Python-built value.
    static let script = #"""
import sys
import frame_pb2 as f
import generation_pb2 as g

U64 = 2**64 - 1
I64_MIN = -2**63

def usage(u):
    u.requests, u.images, u.wasted_billed_attempts, u.unknown_outcome_attempts = 10, 7, 1, 2
    u.prompt_tokens, u.output_tokens, u.total_tokens = 300, 4000, U64

def samples():
    s = {}
    start = g.StartGenerationRequest(project_dir="films/🎬 première", styles=["ink", "oil\tpaint"], detach=True, request_id="r-1")
    shot = start.storyboard.shots.add(id="s1")
    shot.beats.add(id="b1", prompt="a cat", transition=g.HARD_CUT)
    shot.beats.add(id="b2", prompt="the cat jumps 🐈", transition=g.CONTINUE)
    shot.beats.add(id="b3", prompt="cut", transition=g.CUT)
    start.storyboard.shots.add(id="s2")
    start.options.force = True
    start.options.max_concurrency = 4
    s["start"] = start

    s["start_no_storyboard"] = g.StartGenerationRequest(project_dir="p")
    empty = g.StartGenerationRequest(project_dir="p")
    empty.storyboard.SetInParent()
    s["start_empty_storyboard"] = empty

    e = g.ProgressEvent(seq=1, job_id="job-ü", time_unix_ms=1700000000123)
    e.accepted.styles.add(style="ink", total=3, completed=1, failed=0, in_flight=2, percent=33.5, keys_total=4, keys_cooling=1, keys_disabled=1)
    e.accepted.resumed = 1
    e.accepted.attached = True
    s["progress_accepted"] = e

    e = g.ProgressEvent(seq=2, job_id="j", time_unix_ms=-1)
    e.beat.CopyFrom(g.BeatEvent(style="ink", shot_id="s1", beat_id="b1", state=g.BeatEvent.RETRYING, attempt=3,
                                key_label="ink#1…abcd", error="429 too many requests\n", output_path="out/b1.png",
                                bytes=12345, sha256="ab" * 32))
    s["progress_beat"] = e

    e = g.ProgressEvent(seq=3, job_id="j")
    e.style.CopyFrom(g.StyleProgress(style="oil", total=2**32 - 1, percent=100.0))
    s["progress_style"] = e

    e = g.ProgressEvent(seq=4, job_id="j")
    e.key.CopyFrom(g.KeyEvent(style="ink", key_label="ink#2…wxyz", state=g.KeyEvent.COOLING, cool_down_ms=60000, reason="rate limited",
                              project="film-a", model="gemini-3.1-flash-image"))
    s["progress_key"] = e

    s["progress_message"] = g.ProgressEvent(seq=5, job_id="j", message="héllo 🎬")

    e = g.ProgressEvent(seq=U64, job_id="j", time_unix_ms=I64_MIN)
    e.finished.state = g.COMPLETED_WITH_ERRORS
    st = e.finished.styles.add(style="ink", total=10, done=7, failed=2, skipped=1, duration_ms=123456, error="every key disabled")
    usage(st.usage)
    usage(e.finished.usage)
    e.finished.message = "tab\tnewline\n"
    s["progress_finished"] = e

    j = g.JobStatus(job_id="j1", project_dir="p", state=g.PAUSED, message="paused", last_seq=42,
                    created_unix_ms=1, started_unix_ms=2, finished_unix_ms=-3)
    j.styles.add(style="ink", total=2, completed=1, percent=50.0)
    usage(j.usage)
    j.beats.add(style="ink", shot_id="s1", beat_id="b1", state=g.BeatEvent.DONE, attempts=1, bytes=9)
    s["job_status"] = j

    s["get_status"] = g.GetStatusRequest(project_dir="films/x", include_beats=True)

    fr = f.Frame(call_id=U64)
    fr.start.method = "imagegen.v1.ImageGeneration/StartGeneration"
    fr.start.request = start.SerializeToString(deterministic=True)
    fr.start.timeout_ms = 30000
    fr.start.metadata["authorization"] = "Bearer t"
    fr.start.metadata["x-trace"] = "ü"
    s["frame_start"] = fr

    fr = f.Frame(call_id=3)
    fr.status.code = 5
    fr.status.message = "not found: 🎬"
    s["frame_status"] = fr

    fr = f.Frame(call_id=0)
    fr.ping.nonce = U64
    s["frame_ping"] = fr

    s["frame_message"] = f.Frame(call_id=9, message=bytes([0, 1, 2, 255]))
    return s

def main():
    s = samples()
    if sys.argv[1] == "encode":
        for name, message in s.items():
            print(name, message.SerializeToString().hex())
        return
    for argument in sys.argv[2:]:
        name, _, hexed = argument.partition("=")
        expected = s[name]
        decoded = type(expected)()
        decoded.ParseFromString(bytes.fromhex(hexed))
        if name == "frame_start":
            # The nested request is bytes: compare what it decodes to, not its byte order.
            inner = g.StartGenerationRequest()
            inner.ParseFromString(decoded.start.request)
            if inner != s["start"]:
                print(name, "MISMATCH in start.request", ascii(str(inner)))
                continue
            decoded.start.request = expected.start.request
        if decoded == expected and decoded.ListFields() == expected.ListFields():
            print(name, "ok")
        else:
            print(name, "MISMATCH", ascii(str(decoded)), "expected", ascii(str(expected)))

main()
"""#
}
