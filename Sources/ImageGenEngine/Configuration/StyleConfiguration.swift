/// Everything that shapes one style's images and how its requests are sent: prompt template,
/// model, generation settings, reference policy, keys and their pace.
public struct StyleConfiguration: Sendable, Equatable {
    /// The style's name, used in file names (`generated_images/<name>/…`) and key labels.
    public var name: String
    /// The prompt template; `{prompt}` is replaced by the beat's prompt.
    public var promptTemplate: String
    /// The model, e.g. "gemini-3.1-flash-image".
    public var model: String
    /// e.g. "16:9"; nil leaves it to the model.
    public var aspectRatio: String?
    /// "1K", "2K" or "4K"; nil leaves it to the model.
    public var imageSize: String?
    /// Attach the previous beat's image to each `continue` beat (and wait for it).
    public var continuity: Bool
    /// Attach the project's style reference to hard cuts and the first beat.
    public var attachStyleReference: Bool
    /// The key pool; empty means the offline renderer is used.
    public var keys: [APIKey]
    /// Pace per project and model (a quota), in requests per minute: an upper bound the engine
    /// never exceeds (it goes lower when a 429 states less); nil means learn it from Gemini's
    /// answers (a slow start, then the limit its 429s state); 0 means no pacing.
    public var requestsPerMinute: Double?
    /// At most this many requests in flight per project.
    public var maxInFlightPerProject: Int
    /// The Gemini API base URL.
    public var baseURL: String
    /// The whole request's time limit.
    public var requestTimeout: Duration
    /// Retry budgets and backoff.
    public var retry: RetryPolicy
    /// Online, batch or auto (``Delivery``); a job's options may override it.
    public var delivery: Delivery
    /// How batches of this style are polled and how long they may take.
    public var batch: BatchSettings

    /// The default model of every style.
    public static let defaultModel = "gemini-3.1-flash-image"

    public init(
        name: String, promptTemplate: String, model: String = StyleConfiguration.defaultModel,
        aspectRatio: String? = "16:9", imageSize: String? = "1K", continuity: Bool = false,
        attachStyleReference: Bool = true, keys: [APIKey] = [], requestsPerMinute: Double? = nil,
        maxInFlightPerProject: Int = 4, baseURL: String = EngineConfiguration.defaultBaseURL,
        requestTimeout: Duration = .seconds(120), retry: RetryPolicy = RetryPolicy(), delivery: Delivery = .online,
        batch: BatchSettings = BatchSettings()
    ) {
        self.name = name
        self.promptTemplate = promptTemplate
        self.model = model
        self.aspectRatio = aspectRatio
        self.imageSize = imageSize
        self.continuity = continuity
        self.attachStyleReference = attachStyleReference
        self.keys = keys
        self.requestsPerMinute = requestsPerMinute
        self.maxInFlightPerProject = maxInFlightPerProject
        self.baseURL = baseURL
        self.requestTimeout = requestTimeout
        self.retry = retry
        self.delivery = delivery
        self.batch = batch
    }

    /// "gemini" when the style has keys, else "offline".
    public var providerKind: String { keys.isEmpty ? "offline" : "gemini" }

    /// The prompt sent for a beat: the template with `{prompt}` replaced.
    public func render(prompt: String) -> String {
        promptTemplate.contains("{prompt}")
            ? promptTemplate.replacingOccurrences(of: "{prompt}", with: prompt)
            : promptTemplate + " " + prompt
    }

    /// The three built-in styles.
    public static let defaults: [StyleConfiguration] = [
        StyleConfiguration(
            name: "illustration",
            promptTemplate:
                "A hand-drawn storybook illustration with soft watercolour textures and warm light: {prompt}"),
        StyleConfiguration(
            name: "clear",
            promptTemplate:
                "A clean, clear, flat-colour explanatory image with simple shapes and no text: {prompt}"),
        StyleConfiguration(
            name: "consistent",
            promptTemplate:
                "A cinematic frame that keeps characters, palette and setting consistent with the reference images: {prompt}",
            continuity: true),
    ]
}
