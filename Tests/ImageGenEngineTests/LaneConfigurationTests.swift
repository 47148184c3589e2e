import Foundation
import ImageGenEngine
import ImageGenTestSupport
import Testing

/// The configuration file's lane settings: `delivery`, the batch timings (top level and per
/// style), `batchPrices`, and every refusal.
@Suite("Configuration loading: delivery, batch timings and batch prices", .timeLimit(.minutes(1)), .hangWatchdog)
struct LaneConfigurationTests {
    static func style(_ json: String, _ name: String = "clear") throws -> StyleConfiguration {
        try #require(try EngineConfiguration.parse(json: Data(json.utf8)).style(named: name))
    }

    @Test func defaultsAreOnlineWithTheDocumentedTimings() throws {
        let configuration = try EngineConfiguration.load(file: nil, environment: [:])
        for style in configuration.styles {
            #expect(style.delivery == .online)
            #expect(style.batch == BatchSettings())
        }
        #expect(BatchSettings().pollInitial == .seconds(10))
        #expect(BatchSettings().pollMax == .seconds(120))
        #expect(BatchSettings().deadline == .seconds(21_600))
    }

    @Test(arguments: [
        (#"{"delivery":"batch"}"#, "clear", Delivery.batch),
        (#"{"delivery":"auto"}"#, "illustration", .auto),
        (#"{"delivery":"batch","styles":{"clear":{"delivery":"online"}}}"#, "clear", .online),
        (#"{"delivery":"batch","styles":{"clear":{"delivery":"online"}}}"#, "consistent", .batch),
        (#"{"styles":{"extra":{"template":"x {prompt}","delivery":"auto"}}}"#, "extra", .auto),
        (#"{"delivery":"batch","styles":{"extra":{"template":"x {prompt}"}}}"#, "extra", .batch),
    ])
    func deliveryApplies(json: String, style: String, expected: Delivery) throws {
        #expect(try Self.style(json, style).delivery == expected)
    }

    @Test func timingsApplyAtTheTopAndPerStyleWithFractions() throws {
        let json = #"""
        {"batchPollInitialSeconds":0.25,"batchPollMaxSeconds":2,"batchDeadlineSeconds":90,"batchMinimumWaveSeconds":0.5,
         "styles":{"clear":{"batchPollMaxSeconds":4.5,"batchDeadlineSeconds":0}}}
        """#
        let clear = try Self.style(json)
        #expect(clear.batch.pollInitial == .milliseconds(250))
        #expect(clear.batch.pollMax == .milliseconds(4500))
        #expect(clear.batch.deadline == .zero)
        #expect(clear.batch.minimumWaveTime == .milliseconds(500))
        let other = try Self.style(json, "consistent")
        #expect(other.batch.pollMax == .seconds(2))
        #expect(other.batch.deadline == .seconds(90))
    }

    @Test(arguments: [
        (#"{"delivery":"later"}"#, #"delivery: must be "online", "batch" or "auto", not "later""#),
        (#"{"delivery":3}"#, "delivery"),
        (#"{"styles":{"clear":{"delivery":"Batch"}}}"#, #"styles.clear.delivery: must be "online", "batch" or "auto", not "Batch""#),
        (#"{"batchPollInitialSeconds":0}"#, "batchPollInitialSeconds"),
        (#"{"batchPollInitialSeconds":-1}"#, "batchPollInitialSeconds"),
        (#"{"batchPollInitialSeconds":"10"}"#, "batchPollInitialSeconds"),
        (#"{"batchDeadlineSeconds":-5}"#, "batchDeadlineSeconds"),
        (#"{"batchPollInitialSeconds":30,"batchPollMaxSeconds":10}"#, "batchPollMaxSeconds: 10.0 must be at least batchPollInitialSeconds (30.0)"),
        (#"{"styles":{"clear":{"batchPollMaxSeconds":1}}}"#, "styles.clear.batchPollMaxSeconds: 1.0 must be at least batchPollInitialSeconds (10.0)"),
        (#"{"batchPrices":{"gemini-x":{"1K":-1}}}"#, "batchPrices.gemini-x.1K: must be a number of dollars, 0 or more"),
        (#"{"batchPrices":[]}"#, "batchPrices: must be an object keyed by model name"),
        (#"{"styles":{"clear":{"batchDelivery":"x"}}}"#, "styles.clear.batchDelivery: unknown setting"),
    ])
    func refusesBadLaneSettings(json: String, expected: String) {
        let error = #expect(throws: EngineError.self) { try EngineConfiguration.parse(json: Data(json.utf8)) }
        #expect(error?.code == .invalidConfiguration)
        let text = error?.description ?? ""
        #expect(text.contains(expected), "\(text)")
        #expect(error?.problems.count == 1, "\(error?.problems ?? [])")
    }

    @Test(arguments: [
        (#"{}"#, "gemini-3.1-flash-image", "1K", 0.0335),
        (#"{"batchPrices":{"gemini-3.1-flash-image":{"1K":0.03}}}"#, "gemini-3.1-flash-image", "1K", 0.03),
        (#"{"batchPrices":{"gemini-3.1-flash-image":{"1K":0.03}}}"#, "gemini-3.1-flash-image", "2K", 0.0505),
        (#"{"prices":{"gemini-3-pro-image":{"4K":0.3}}}"#, "gemini-3-pro-image", "4K", 0.15),
        (#"{"prices":{"gemini-3-pro-image":{}}}"#, "gemini-3-pro-image", "1K", nil),
    ] as [(String, String, String, Double?)])
    func batchPricesDefaultToHalf(json: String, model: String, size: String, expected: Double?) throws {
        let prices = try EngineConfiguration.parse(json: Data(json.utf8)).prices
        let price = prices.price(model: model, imageSize: size, lane: .batch)
        if let expected { #expect(abs((price ?? -1) - expected) < 1e-12) } else { #expect(price == nil) }
    }
}
