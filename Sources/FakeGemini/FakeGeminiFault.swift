/// A failure the fake answers instead of an image, named as in scripts and prompts
/// (`[[fault:rate_limit]]`, `--fault drop`, `POST /_fake/faults`).
public enum FakeGeminiFault: String, Sendable, CaseIterable, Codable {
    /// 429 with QuotaFailure (per-minute quota; its quotaValue when the fake has a limiter) and RetryInfo.retryDelay.
    case rateLimit = "rate_limit"
    /// 429 without details.
    case rateLimitBare = "rate_limit_bare"
    /// 429 whose QuotaFailure names a per-day quota.
    case dailyQuota = "daily_quota"
    /// 400 INVALID_ARGUMENT with ErrorInfo reason API_KEY_INVALID.
    case invalidKey = "invalid_key"
    /// 403 PERMISSION_DENIED.
    case forbidden
    /// 500 INTERNAL.
    case serverError = "server_error"
    /// 503 UNAVAILABLE ("The model is overloaded").
    case unavailable
    /// 504 DEADLINE_EXCEEDED.
    case gatewayTimeout = "gateway_timeout"
    /// Closes the connection after reading the request, without a response.
    case drop
    /// Never answers; the client times out (the connection stays open until the client closes it).
    case hang
    /// 200 with only `promptFeedback.blockReason` (PROHIBITED_CONTENT).
    case safety
    /// 200 with a candidate without parts and finishReason IMAGE_SAFETY.
    case imageSafety = "image_safety"
    /// 200 with text parts only.
    case textOnly = "text_only"
    /// 200 with finishReason NO_IMAGE.
    case noImage = "no_image"
    /// 200 whose image data is not valid base64.
    case brokenBase64 = "broken_base64"
    /// 502 with an HTML body (a proxy's error page).
    case htmlError = "html_error"
    /// 200 with JPEG bytes declared as image/png.
    case jpegAsPNG = "jpeg_as_png"
    /// 404 NOT_FOUND for the model.
    case modelNotFound = "model_not_found"
}
