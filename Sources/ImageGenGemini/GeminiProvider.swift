// Placeholder: replaced by the Gemini provider.
