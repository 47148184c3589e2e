import Foundation

/// The file's `quotas`: the pace of one Google Cloud project with one model, where it differs
/// from the style's (`{"film-a": {"gemini-3-pro-image": 20, "gemini-3.1-flash-image": "auto"}}`).
/// A value here replaces the style's `requestsPerMinute` for that quota alone.
extension ConfigurationLoader {
    mutating func parseQuotas(_ raw: Any) {
        guard let projects = raw as? [String: Any] else {
            problems.append("quotas: must be an object keyed by Google Cloud project, e.g. {\"film-a\": {\"gemini-3-pro-image\": 20}}")
            return
        }
        for project in projects.keys.sorted() {
            guard Self.isProjectID(project) else {
                problems.append("quotas.\(project): \(ValidatedStoryboard.quoted(project)) is not a Google Cloud project id")
                continue
            }
            guard let models = projects[project] as? [String: Any] else {
                problems.append("quotas.\(project): must be an object of requests per minute by model")
                continue
            }
            for model in models.keys.sorted() {
                guard Self.isModelName(model) else {
                    problems.append("quotas.\(project).\(model): \(ValidatedStoryboard.quoted(model)) is not a model name")
                    continue
                }
                if let pace = pace(models, model, at: "quotas.\(project).") {
                    config.quotaPaces[QuotaID(project: project, model: model)] = pace
                }
            }
        }
    }
}
