import Foundation

/// The file's `prices` and `batchPrices`: dollars per image by model and image size, online and
/// in Batch API batches. A model named here replaces that model's built-in prices entirely (sizes
/// it leaves out have no price); other models keep theirs. Without `batchPrices` for a model, its
/// batch price is half its online price.
extension ConfigurationLoader {
    mutating func parsePrices(_ raw: Any, field: String = "prices") {
        guard let models = raw as? [String: Any] else {
            problems.append("\(field): must be an object keyed by model name, e.g. {\"gemini-3.1-flash-image\": {\"1K\": 0.067}}")
            return
        }
        for model in models.keys.sorted() {
            guard Self.isModelName(model) else {
                problems.append("\(field).\(model): \(ValidatedStoryboard.quoted(model)) is not a model name")
                continue
            }
            if let sizes = parseModelPrices(models[model] as Any, at: "\(field).\(model)") {
                if field == "batchPrices" {
                    config.prices.batchDollarsPerImage[model] = sizes
                } else {
                    config.prices.dollarsPerImage[model] = sizes
                }
            }
        }
    }

    /// One model's prices, `{"1K": 0.067, …}`; nil (and problems) when any entry is wrong.
    private mutating func parseModelPrices(_ raw: Any, at place: String) -> [String: Double]? {
        guard let object = raw as? [String: Any] else {
            problems.append("\(place): must be an object of dollars per image by size (\(PriceTable.sizes.joined(separator: ", ")))")
            return nil
        }
        var prices: [String: Double] = [:]
        var valid = true
        for size in object.keys.sorted() {
            guard PriceTable.sizes.contains(size) else {
                problems.append("\(place).\(size): unknown image size (known: \(PriceTable.sizes.joined(separator: ", ")))")
                valid = false
                continue
            }
            guard let dollars = Self.dollars(object[size] as Any) else {
                problems.append("\(place).\(size): must be a number of dollars, 0 or more")
                valid = false
                continue
            }
            prices[size] = dollars
        }
        return valid ? prices : nil
    }

    /// A JSON number, finite and 0 or more (not `true`/`false`, which Foundation also reads as numbers).
    static func dollars(_ raw: Any) -> Double? {
        guard let number = raw as? NSNumber, !(raw is String), type(of: number) != type(of: NSNumber(value: true)) else {
            return nil
        }
        let value = number.doubleValue
        return value.isFinite && value >= 0 ? value : nil
    }

    /// The rule `styles.<name>.model` follows: not empty, no "/" and no space.
    static func isModelName(_ text: String) -> Bool {
        !text.isEmpty && !text.contains("/") && !text.contains(" ")
    }
}
