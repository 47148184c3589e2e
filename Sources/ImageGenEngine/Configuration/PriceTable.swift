/// What one image is estimated to cost, in US dollars, by model and image size (`512`, `1K`, `2K`,
/// `4K`), online and in Batch API batches: the basis of the spend metrics and of `imagegen estimate`. Prices are configuration (`prices` in the file), not
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

    /// Dollars per image online, by model, then image size.
    public var dollarsPerImage: [String: [String: Double]]
    /// Dollars per image in a batch, by model, then image size; where absent, half the online price.
    public var batchDollarsPerImage: [String: [String: Double]]

    public init(_ dollarsPerImage: [String: [String: Double]] = [:], batch: [String: [String: Double]] = [:]) {
        self.dollarsPerImage = dollarsPerImage
        self.batchDollarsPerImage = batch
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

    /// The price of one image in `lane` (`auto` is priced as batch); nil when unpriced.
    public func price(model: String, imageSize: String?, lane: Delivery) -> Double? {
        guard lane != .online else { return price(model: model, imageSize: imageSize) }
        let size = imageSize ?? Self.defaultSize
        return batchDollarsPerImage[model]?[size] ?? dollarsPerImage[model]?[size].map { $0 / 2 }
    }
}
