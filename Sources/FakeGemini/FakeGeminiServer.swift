// Placeholder: replaced by the fake Gemini server.
