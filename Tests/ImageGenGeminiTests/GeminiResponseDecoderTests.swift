import Foundation
import ImageGenEngine
import ImageGenTestSupport
import Testing

@testable import ImageGenGemini

/// The classification table, without sockets.
@Suite("GeminiResponseDecoder", .timeLimit(.minutes(1)), .hangWatchdog)
struct GeminiResponseDecoderTests {
    static let secret = "AIzaSyDECODER-secret-1234"
    let decoder = GeminiResponseDecoder(secret: Self.secret)

    func failure(_ status: Int, _ body: String) -> ProviderFailure? {
        if case .failure(let failure) = decoder.decode(status: status, body: Data(body.utf8)) { return failure }
        return nil
    }

    @Test func fractionalRetryDelayAndPerMinuteQuota() {
        let body = """
            {"error":{"code":429,"message":"You exceeded your current quota.","status":"RESOURCE_EXHAUSTED","details":[
             {"@type":"type.googleapis.com/google.rpc.Help","links":[]},
             {"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"45.837906927s"},
             {"@type":"type.googleapis.com/google.rpc.QuotaFailure","violations":[{"quotaId":"GenerateRequestsPerMinutePerProjectPerModel-FreeTier"}]}]}}
            """
        #expect(failure(429, body) == .rateLimited(RateLimit(
            retryAfter: .nanoseconds(45_837_906_927), window: .minute, message: "You exceeded your current quota.")))
    }

    @Test func retryDelayFromTheMessageAndPerDayAmongSeveralViolations() {
        let body = """
            {"error":{"code":429,"message":"Quota exceeded. Please retry in 58.93s.","status":"RESOURCE_EXHAUSTED","details":[
             {"@type":"type.googleapis.com/google.rpc.QuotaFailure","violations":[
               {"quotaId":"GenerateRequestsPerMinutePerProjectPerModel-FreeTier"},
               {"quotaId":"GenerateRequestsPerDayPerProjectPerModel-FreeTier"}]}]}}
            """
        #expect(failure(429, body) == .rateLimited(RateLimit(
            retryAfter: .milliseconds(58_930), window: .day, message: "Quota exceeded. Please retry in 58.93s.")))
    }

    @Test func bare429() {
        #expect(failure(429, #"{"error":{"code":429,"message":"Resource exhausted.","status":"RESOURCE_EXHAUSTED"}}"#)
            == .rateLimited(retryAfter: nil, perDay: false, message: "Resource exhausted."))
        guard case .rateLimited(let limit)? = failure(429, "Too Many Requests"), limit.retryAfter == nil, limit.window == nil else {
            Issue.record("non-JSON 429")
            return
        }
    }

    /// What a QuotaFailure says of the quota: the window from its quotaId, the limit from its
    /// quotaValue (a string, or a number), the model from its dimensions; the strictest per-minute
    /// violation when there are several, a per-day one over any per-minute one.
    @Test(arguments: [
        (#"[{"quotaId":"GenerateRequestsPerMinutePerProjectPerModel","quotaValue":"120","quotaDimensions":{"location":"global","model":"m-1"}}]"#,
         RateLimit(window: .minute, limit: 120, model: "m-1", message: "q")),
        (#"[{"quotaId":"GenerateRequestsPerMinutePerProjectPerModel","quotaValue":60}]"#, RateLimit(window: .minute, limit: 60, message: "q")),
        (#"[{"quotaId":"GenerateRequestsPerMinutePerProjectPerModel","quotaValue":"200"},{"quotaId":"GenerateRequestsPerMinutePerProjectPerModel-Tier","quotaValue":"90"}]"#,
         RateLimit(window: .minute, limit: 90, message: "q")),
        // Not one model's requests: a project-wide quota, a token quota. A per-minute 429, no limit to pace by.
        (#"[{"quotaId":"GenerateRequestsPerMinutePerProject","quotaValue":"90"}]"#, RateLimit(window: .minute, message: "q")),
        (#"[{"quotaId":"GenerateContentInputTokensPerModelPerMinute-FreeTier","quotaValue":"250000","quotaDimensions":{"model":"m-1"}}]"#,
         RateLimit(window: .minute, model: "m-1", message: "q")),
        (#"[{"quotaId":"GenerateContentInputTokensPerModelPerMinute-FreeTier","quotaValue":"250000"},{"quotaId":"GenerateRequestsPerMinutePerProjectPerModel","quotaValue":"15"}]"#,
         RateLimit(window: .minute, limit: 15, message: "q")),
        (#"[{"quotaId":"GenerateRequestsPerMinutePerProjectPerModel","quotaValue":"10"},{"quotaId":"GenerateRequestsPerDayPerProjectPerModel","quotaValue":"250","quotaDimensions":{"model":"m-2"}}]"#,
         RateLimit(window: .day, limit: 250, model: "m-2", message: "q")),
        // Values that are no limit: zero, negative, fractional, text, absent.
        (#"[{"quotaId":"GenerateRequestsPerMinutePerProjectPerModel","quotaValue":"0"}]"#, RateLimit(window: .minute, message: "q")),
        (#"[{"quotaId":"GenerateRequestsPerMinutePerProjectPerModel","quotaValue":"-5"}]"#, RateLimit(window: .minute, message: "q")),
        (#"[{"quotaId":"GenerateRequestsPerMinutePerProjectPerModel","quotaValue":12.5}]"#, RateLimit(window: .minute, message: "q")),
        (#"[{"quotaId":"GenerateRequestsPerMinutePerProjectPerModel","quotaValue":"lots"}]"#, RateLimit(window: .minute, message: "q")),
        (#"[{"quotaId":"SomethingElse","quotaValue":"7"}]"#, RateLimit(message: "q")),
        (#"[{"quotaValue":"7"}]"#, RateLimit(message: "q")),
    ])
    func quotaFailureNamesTheQuota(violations: String, expected: RateLimit) {
        let body = #"{"error":{"code":429,"message":"q","status":"RESOURCE_EXHAUSTED","details":[{"@type":"type.googleapis.com/google.rpc.QuotaFailure","violations":"#
            + violations + "}]}}"
        #expect(failure(429, body) == .rateLimited(expected), "\(violations)")
    }

    @Test(arguments: [
        (400, #"{"error":{"code":400,"message":"API key expired. Please renew the API key.","status":"INVALID_ARGUMENT"}}"#, "keyRejected"),
        (400, #"{"error":{"code":400,"message":"Bad.","status":"INVALID_ARGUMENT","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"API_KEY_INVALID"}]}}"#, "keyRejected"),
        (400, #"{"error":{"code":400,"message":"User location is not supported for the API use.","status":"FAILED_PRECONDITION"}}"#, "configuration"),
        (400, #"{"error":{"code":400,"message":"* GenerateContentRequest.contents: contents is not specified","status":"INVALID_ARGUMENT"}}"#, "badRequest"),
        (401, #"{"error":{"code":401,"message":"Unauthenticated.","status":"UNAUTHENTICATED"}}"#, "keyRejected"),
        (402, #"{"error":{"code":402,"message":"Your prepayment credits are depleted.","status":"RESOURCE_EXHAUSTED"}}"#, "configuration"),
        (403, #"{"error":{"code":403,"message":"Permission denied.","status":"PERMISSION_DENIED"}}"#, "keyRejected"),
        (404, #"{"error":{"code":404,"message":"models/x is not found.","status":"NOT_FOUND"}}"#, "configuration"),
        (408, "Request Timeout", "transient"),
        (500, #"{"error":{"code":500,"message":"Internal error.","status":"INTERNAL"}}"#, "transient"),
        (502, "<html><body>502 Bad Gateway</body></html>", "transient"),
        (503, #"{"error":{"code":503,"message":"The model is overloaded.","status":"UNAVAILABLE"}}"#, "transient"),
        (504, #"{"error":{"code":504,"message":"Deadline expired.","status":"DEADLINE_EXCEEDED"}}"#, "transient"),
    ])
    func errorTable(status: Int, body: String, expected: String) {
        let kind: String
        switch failure(status, body) {
        case .keyRejected?: kind = "keyRejected"
        case .configuration?: kind = "configuration"
        case .badRequest?: kind = "badRequest"
        case .transient(status, _, false)?: kind = "transient"
        default: kind = "other"
        }
        #expect(kind == expected)
    }

    @Test func theKeyIsScrubbedFromEchoedMessagesAndBodies() {
        let json = #"{"error":{"code":400,"message":"API key not valid: \#(Self.secret)","status":"INVALID_ARGUMENT"}}"#
        let html = "<html>bad key \(Self.secret)</html>"
        for failure in [failure(400, json), failure(502, html), failure(200, "garbage \(Self.secret)")] {
            let text = "\(String(describing: failure))"
            #expect(!text.contains(Self.secret))
            #expect(text.contains("[redacted]"))
        }
    }

    @Test func thoughtPartsAreSkippedAndTheLastImageWins() throws {
        let png = Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 1, 2, 3])
        let jpeg = Data([0xFF, 0xD8, 0xFF, 0xE0, 4, 5])
        let body = """
            {"candidates":[{"content":{"parts":[
              {"inlineData":{"mimeType":"image/png","data":"\(png.base64EncodedString())"}},
              {"text":"hello"},
              {"inlineData":{"mimeType":"image/png","data":"\(jpeg.base64EncodedString())"}},
              {"inlineData":{"mimeType":"image/png","data":"\(png.base64EncodedString())"},"thought":true}]},
              "finishReason":"STOP"}],
             "usageMetadata":{"promptTokenCount":15,"candidatesTokenCount":1318,"totalTokenCount":1333}}
            """
        let image = try decoder.decode(status: 200, body: Data(body.utf8)).get()
        #expect(image.mimeType == "image/jpeg")
        #expect(image.data == jpeg)
        #expect(image.text == "hello")
        #expect(image.usage == TokenUsage(promptTokens: 15, outputTokens: 1318, totalTokens: 1333))
    }

    @Test(arguments: [
        (#"{"promptFeedback":{"blockReason":"SAFETY"}}"#, "blocked:SAFETY"),
        (#"{"candidates":[{"finishReason":"IMAGE_PROHIBITED_CONTENT","finishMessage":"no"}]}"#, "blocked:IMAGE_PROHIBITED_CONTENT"),
        (#"{"candidates":[{"content":{"parts":[]},"finishReason":"NO_IMAGE"}]}"#, "noImage:NO_IMAGE"),
        (#"{"candidates":[{"content":{"parts":[{"text":"just words"}]},"finishReason":"STOP"}]}"#, "noImage:TEXT_ONLY"),
        (#"{"candidates":[{"content":{"parts":[{"inlineData":{"mimeType":"image/png","data":"@@@"}}]}}]}"#, "transient"),
        ("not json at all", "transient"),
    ])
    func imagelessSuccesses(body: String, expected: String) {
        let kind: String
        switch failure(200, body) {
        case .blocked(let reason, _)?: kind = "blocked:" + reason
        case .noImage(let reason, _)?: kind = "noImage:" + reason
        case .transient(200, _, true)?: kind = "transient"
        default: kind = "other"
        }
        #expect(kind == expected)
    }

    @Test func protobufDurations() {
        #expect(GeminiResponseDecoder.parseProtobufDuration("26s") == .seconds(26))
        #expect(GeminiResponseDecoder.parseProtobufDuration("0.5s") == .milliseconds(500))
        #expect(GeminiResponseDecoder.parseProtobufDuration("abc") == nil)
        #expect(GeminiResponseDecoder.parseRetryIn("Please retry in 850ms.") == .milliseconds(850))
        #expect(GeminiResponseDecoder.parseRetryIn("no hint") == nil)
    }
}
