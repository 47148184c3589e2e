import Foundation
import ImageGenEngine
import ImageGenTestSupport
import Testing

/// The configuration file's `prices`: defaults, overrides per model, lookups, and every refusal.
@Suite("Configuration loading: prices", .timeLimit(.minutes(1)), .hangWatchdog)
struct PriceConfigurationTests {
    static let flash = "gemini-3.1-flash-image"
    static let pro = "gemini-3-pro-image"

    @Test func defaultsAreTheQuotedPrices() throws {
        let prices = try EngineConfiguration.load(file: nil, environment: [:]).prices
        #expect(prices == PriceTable.defaults)
        let rows: [(String, String?, Double?)] = [
            (Self.flash, "512", 0.045), (Self.flash, "1K", 0.067), (Self.flash, nil, 0.067), (Self.flash, "2K", 0.101),
            (Self.flash, "4K", 0.151), (Self.pro, "512", nil), (Self.pro, "1K", 0.134), (Self.pro, nil, 0.134),
            (Self.pro, "2K", 0.134), (Self.pro, "4K", 0.24), ("gemini-2.5-flash-image", "1K", nil), (Self.flash, "1k", nil),
        ]
        for (model, size, expected) in rows {
            #expect(prices.price(model: model, imageSize: size) == expected, "\(model) \(size ?? "nil")")
        }
    }

    /// A model named replaces its prices entirely; the others keep the defaults.
    @Test(arguments: [
        (#"{"prices":{}}"#, "gemini-3-pro-image", "1K", 0.134),
        (#"{"prices":{"gemini-3-pro-image":{"1K":0.2}}}"#, "gemini-3-pro-image", "1K", 0.2),
        (#"{"prices":{"gemini-3-pro-image":{"1K":0.2}}}"#, "gemini-3-pro-image", "4K", nil),
        (#"{"prices":{"gemini-3-pro-image":{"1K":0.2}}}"#, "gemini-3.1-flash-image", "4K", 0.151),
        (#"{"prices":{"gemini-3.1-flash-image":{}}}"#, "gemini-3.1-flash-image", "1K", nil),
        (#"{"prices":{"gemini-9-image":{"512":0,"4K":1.5}}}"#, "gemini-9-image", "512", 0),
        (#"{"prices":{"gemini-9-image":{"512":0,"4K":1.5}}}"#, "gemini-9-image", "4K", 1.5),
        (#"{"prices":{"gemini-9-image":{"512":0,"4K":1.5}}}"#, "gemini-9-image", nil, nil),
        (#"{"prices":{"gemini-9-image":{"1K":1e-3}}}"#, "gemini-9-image", nil, 0.001),
    ] as [(String, String, String?, Double?)])
    func overridesApply(json: String, model: String, size: String?, expected: Double?) throws {
        let prices = try EngineConfiguration.parse(json: Data(json.utf8)).prices
        #expect(prices.price(model: model, imageSize: size) == expected)
    }

    @Test(arguments: [
        (#"{"prices":3}"#, "prices: must be an object keyed by model name"),
        (#"{"prices":["gemini-x"]}"#, "prices: must be an object keyed by model name"),
        (#"{"prices":{"gemini-x":0.05}}"#, "prices.gemini-x: must be an object of dollars per image by size (512, 1K, 2K, 4K)"),
        (#"{"prices":{"gemini-x":{"1K":-1}}}"#, "prices.gemini-x.1K: must be a number of dollars, 0 or more"),
        (#"{"prices":{"gemini-x":{"1K":-0.001}}}"#, "prices.gemini-x.1K: must be a number of dollars, 0 or more"),
        (#"{"prices":{"gemini-x":{"1K":"0.05"}}}"#, "prices.gemini-x.1K: must be a number of dollars, 0 or more"),
        (#"{"prices":{"gemini-x":{"1K":null}}}"#, "prices.gemini-x.1K: must be a number of dollars, 0 or more"),
        (#"{"prices":{"gemini-x":{"1K":true}}}"#, "prices.gemini-x.1K: must be a number of dollars, 0 or more"),
        (#"{"prices":{"gemini-x":{"1K":false}}}"#, "prices.gemini-x.1K: must be a number of dollars, 0 or more"),
        (#"{"prices":{"gemini-x":{"1K":{}}}}"#, "prices.gemini-x.1K: must be a number of dollars, 0 or more"),
        (#"{"prices":{"gemini-x":{"1K":[0.1]}}}"#, "prices.gemini-x.1K: must be a number of dollars, 0 or more"),
        (#"{"prices":{"gemini-x":{"8K":0.1}}}"#, "prices.gemini-x.8K: unknown image size (known: 512, 1K, 2K, 4K)"),
        (#"{"prices":{"gemini-x":{"1k":0.1}}}"#, "prices.gemini-x.1k: unknown image size (known: 512, 1K, 2K, 4K)"),
        (#"{"prices":{"gemini-x":{"":0.1}}}"#, "prices.gemini-x.: unknown image size"),
        (#"{"prices":{"models/gemini-x":{"1K":0.1}}}"#, "prices.models/gemini-x: \"models/gemini-x\" is not a model name"),
        (#"{"prices":{"gemini x":{"1K":0.1}}}"#, "prices.gemini x: \"gemini x\" is not a model name"),
        (#"{"prices":{"":{"1K":0.1}}}"#, "prices.: \"\" is not a model name"),
        (#"{"price":{}}"#, "price: unknown setting (allowed: "),
    ])
    func refusesBadPrices(json: String, expected: String) {
        let error = #expect(throws: EngineError.self) { try EngineConfiguration.parse(json: Data(json.utf8)) }
        #expect(error?.code == .invalidConfiguration)
        let text = error?.description ?? ""
        #expect(text.contains(expected), "\(text)")
        #expect(error?.problems.count == 1, "\(error?.problems ?? [])")
    }

    @Test func reportsEveryPriceProblemAtOnce() {
        let json = #"{"prices":{"gemini-x":{"1K":-1,"3K":1,"2K":0.1},"a/b":{},"gemini-y":"cheap"}}"#
        let error = #expect(throws: EngineError.self) { try EngineConfiguration.parse(json: Data(json.utf8)) }
        #expect(error?.problems.count == 4, "\(error?.problems ?? [])")
    }

    @Test func theAllowedTopLevelSettingsNamePrices() {
        let error = #expect(throws: EngineError.self) { try EngineConfiguration.parse(json: Data(#"{"pricez":{}}"#.utf8)) }
        #expect(error?.description.contains("prices") == true, "\(error?.description ?? "")")
    }
}
