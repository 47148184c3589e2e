import Foundation
import ImageGenEngine
import ImageGenTestSupport
import Testing

@testable import ImageGenGemini

/// The Batch API's Operation and listing bodies, decoded without sockets: states, counts as
/// strings, numbers or missing, and every kind of inlined result, classified as online answers are.
@Suite("GeminiBatchDecoder", .timeLimit(.minutes(1)), .hangWatchdog)
struct GeminiBatchDecoderTests {
    static let secret = "AIzaSyBATCH-secret-98765"
    let decoder = GeminiBatchDecoder(responses: GeminiResponseDecoder(secret: Self.secret))
    /// A 1×1 PNG, base64.
    static let png = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="

    static func operation(state: String, stats: String = "", done: Bool = false, response: String = "") -> String {
        """
        {"name":"batches/abc_123-x","metadata":{"@type":"type.googleapis.com/google.ai.generativelanguage.v1beta.GenerateContentBatch",
         "model":"models/gemini-3.1-flash-image","displayName":"imagegen 1 clear w1 #1","state":"\(state)"\(stats)}\(done ? ",\"done\":true" : "")\(response)}
        """
    }

    @Test(arguments: [
        ("BATCH_STATE_PENDING", BatchState.pending), ("BATCH_STATE_RUNNING", .running), ("JOB_STATE_SUCCEEDED", .succeeded),
        ("BATCH_STATE_FAILED", .failed), ("BATCH_STATE_CANCELLED", .cancelled), ("JOB_STATE_EXPIRED", .expired),
        ("SOMETHING_NEW", .unspecified),
    ])
    func states(wire: String, state: BatchState) throws {
        let snapshot = try decoder.operation(Data(Self.operation(state: wire).utf8), results: true)
        #expect(snapshot.state == state)
        #expect(snapshot.name == "batches/abc_123-x")
        #expect(snapshot.model == "gemini-3.1-flash-image")
        #expect(snapshot.displayName == "imagegen 1 clear w1 #1")
        #expect(snapshot.results.isEmpty)
    }

    @Test(arguments: [
        (#","batchStats":{"requestCount":"12","successfulRequestCount":"5","failedRequestCount":"1","pendingRequestCount":"6"}"#, BatchStats(requestCount: 12, successful: 5, failed: 1, pending: 6)),
        (#","batchStats":{"requestCount":3,"pendingRequestCount":3}"#, BatchStats(requestCount: 3, pending: 3)),
        (#","batchStats":{}"#, BatchStats()),
        ("", BatchStats()),
        (#","batchStats":{"requestCount":"lots"}"#, BatchStats()),
    ])
    func counts(stats: String, expected: BatchStats) throws {
        #expect(try decoder.operation(Data(Self.operation(state: "BATCH_STATE_RUNNING", stats: stats).utf8), results: false).stats == expected)
    }

    @Test func everyKindOfResultIsClassifiedAsOnline() throws {
        let response = """
            ,"response":{"@type":"type.googleapis.com/google.ai.generativelanguage.v1beta.GenerateContentBatchOutput","inlinedResponses":{"inlinedResponses":[
             {"response":{"candidates":[{"content":{"parts":[{"inlineData":{"mimeType":"image/png","data":"\(Self.png)"}}]},"finishReason":"STOP"}],
               "usageMetadata":{"promptTokenCount":7,"candidatesTokenCount":1290,"totalTokenCount":1297}},"metadata":{"key":"clear/1/1.1"}},
             {"response":{"promptFeedback":{"blockReason":"SAFETY"}},"metadata":{"key":"clear/1/1.2"}},
             {"response":{"candidates":[{"content":{"parts":[{"text":"I cannot draw that"}]},"finishReason":"STOP"}]},"metadata":{"key":"clear/1/1.3"}},
             {"error":{"code":13,"message":"internal error","status":"INTERNAL"},"metadata":{"key":"clear/1/1.4"}},
             {"error":{"code":400,"message":"bad field","status":"INVALID_ARGUMENT"},"metadata":{"key":"clear/1/1.5"}},
             {"error":{"code":8,"message":"quota","status":"RESOURCE_EXHAUSTED"},"metadata":{"key":"clear/1/1.6"}},
             {"error":{"code":3,"message":"key \(Self.secret) is bad"},"metadata":{"key":"clear/1/1.7"}},
             {"response":{"candidates":[]}}
            ]}}
            """
        let snapshot = try decoder.operation(
            Data(Self.operation(state: "BATCH_STATE_SUCCEEDED", done: true, response: response).utf8), results: true)
        #expect(snapshot.results.count == 7, "the entry without a key is ignored")
        let image = try #require(try? snapshot.results["clear/1/1.1"]?.get())
        #expect(image.mimeType == "image/png" && image.usage.outputTokens == 1290)
        func failure(_ key: String) -> ProviderFailure? {
            if case .failure(let failure)? = snapshot.results[key] { return failure }
            return nil
        }
        if case .blocked(let reason, _)? = failure("clear/1/1.2") { #expect(reason == "SAFETY") } else { Issue.record("1.2: \(String(describing: failure("clear/1/1.2")))") }
        if case .noImage(let reason, _)? = failure("clear/1/1.3") { #expect(reason == "TEXT_ONLY") } else { Issue.record("1.3") }
        if case .transient(let status, _, false)? = failure("clear/1/1.4") { #expect(status == 500) } else { Issue.record("1.4") }
        #expect(failure("clear/1/1.5") == .badRequest(message: "bad field"))
        if case .rateLimited? = failure("clear/1/1.6") {} else { Issue.record("1.6") }
        #expect(failure("clear/1/1.7")?.description.contains(Self.secret) == false)
    }

    @Test(arguments: [
        "not json", "[]", #"{"metadata":{"state":"BATCH_STATE_RUNNING"}}"#, #"{"name":"operations/x"}"#,
        #"{"name":"batches/../../etc"}"#, #"{"name":"batches/"}"#,
    ])
    func malformedOperationsAreTransient(body: String) {
        #expect(throws: ProviderFailure.self) { try decoder.operation(Data(body.utf8), results: true) }
        do {
            _ = try decoder.operation(Data(body.utf8), results: true)
        } catch {
            if case .transient(200, let message, false) = error { #expect(message.contains("malformed batch answer")) } else { Issue.record("\(error)") }
        }
    }

    @Test func fileResultsAreRefusedClearly() {
        let body = Self.operation(state: "BATCH_STATE_SUCCEEDED", done: true, response: #","response":{"responsesFile":"files/abc"}"#)
        do {
            _ = try decoder.operation(Data(body.utf8), results: true)
            Issue.record("accepted")
        } catch {
            #expect(error.description.contains("as a file"))
        }
    }

    @Test func listingPages() throws {
        let body = """
            {"operations":[\(Self.operation(state: "BATCH_STATE_PENDING")),\(Self.operation(state: "BATCH_STATE_SUCCEEDED", done: true))],"nextPageToken":"tok/en=="}
            """
        let page = try decoder.page(Data(body.utf8))
        #expect(page.batches.map(\.state) == [.pending, .succeeded])
        #expect(page.nextPageToken == "tok/en==")
        #expect(try decoder.page(Data(#"{"operations":[],"nextPageToken":""}"#.utf8)).nextPageToken == nil)
        #expect(try decoder.page(Data("{}".utf8)).batches.isEmpty)
    }

    @Test(arguments: [
        ("batches/abc", true), ("batches/a_b-9", true), ("batches/", false), ("batches/a/b", false), ("batches/a?x", false),
        ("files/abc", false), ("batches/a%2F", false), ("batches/ä", false),
    ])
    func batchNames(name: String, valid: Bool) {
        #expect(GeminiBatchDecoder.isBatchName(name) == valid)
    }
}
