/// The file's lane settings, at the top (every style) or in a style: `delivery` and the batch
/// timings (`batchPollInitialSeconds`, `batchPollMaxSeconds`, `batchDeadlineSeconds`,
/// `batchMinimumWaveSeconds`; fractions allowed).
extension ConfigurationLoader {
    static let batchKeys: Set<String> = [
        "delivery", "batchPollInitialSeconds", "batchPollMaxSeconds", "batchDeadlineSeconds", "batchMinimumWaveSeconds",
    ]

    /// `delivery`: "online", "batch" or "auto"; nil when absent or wrong.
    mutating func delivery(_ object: [String: Any], at prefix: String) -> Delivery? {
        guard let text = string(object, "delivery", at: prefix) else { return nil }
        guard let delivery = Delivery(rawValue: text) else {
            problems.append("\(prefix)delivery: must be \"online\", \"batch\" or \"auto\", not \(ValidatedStoryboard.quoted(text))")
            return nil
        }
        return delivery
    }

    /// The batch timings in `object` over `base`; a poll maximum below the first poll is a problem.
    mutating func batchSettings(_ object: [String: Any], base: BatchSettings, at prefix: String) -> BatchSettings {
        var settings = base
        func seconds(_ value: Double) -> Duration { .milliseconds(Int64((value * 1000).rounded())) }
        if let value = number(object, "batchPollInitialSeconds", at: prefix, min: 0.001) { settings.pollInitial = seconds(value) }
        if let value = number(object, "batchPollMaxSeconds", at: prefix, min: 0.001) { settings.pollMax = seconds(value) }
        if let value = number(object, "batchDeadlineSeconds", at: prefix, min: 0) { settings.deadline = seconds(value) }
        if let value = number(object, "batchMinimumWaveSeconds", at: prefix, min: 0) { settings.minimumWaveTime = seconds(value) }
        if settings.pollMax < settings.pollInitial {
            problems.append(
                "\(prefix)batchPollMaxSeconds: \(settings.pollMax.seconds) must be at least batchPollInitialSeconds (\(settings.pollInitial.seconds))")
            settings.pollMax = settings.pollInitial
        }
        return settings
    }
}
