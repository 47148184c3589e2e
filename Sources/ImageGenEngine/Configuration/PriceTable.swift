/// What one image is estimated to cost, in US dollars, by model and image size (`512`, `1K`, `2K`,
/// `4K`): the basis of the spend metrics. Prices are configuration (`prices` in the file), not
/// constants; the defaults are late-2026 quotes of Google's pricing page.
///
/// ```swift
/// PriceTable.defaults.price(model: "gemini-3.1-flash-image", imageSize: nil)   // 0.067, the 1K price
/// ```
public struct PriceTable: Sendable, Equatable {
    /// The image sizes a price may be given for.
    public static let sizes: [String] = ["512", "1K", "2K", "4K"]
    /// The size a request without `imageSize` is priced at (Gemini's default).
    public static let defaultSize = "1K"

    /// Dollars per image, by model, then image size.
    public var dollarsPerImage: [String: [String: Double]]

    public init(_ dollarsPerImage: [String: [String: Double]] = [:]) {
        self.dollarsPerImage = dollarsPerImage
    }

    /// The built-in prices.
    public static let defaults = PriceTable([
        "gemini-3.1-flash-image": ["512": 0.045, "1K": 0.067, "2K": 0.101, "4K": 0.151],
        "gemini-3-pro-image": ["1K": 0.134, "2K": 0.134, "4K": 0.24],
    ])

    /// The price of one image of `model` at `imageSize` (nil: ``defaultSize``); nil when unpriced.
    public func price(model: String, imageSize: String?) -> Double? {
        dollarsPerImage[model]?[imageSize ?? Self.defaultSize]
    }
}
