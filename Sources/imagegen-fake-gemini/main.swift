print("imagegen-fake-gemini: not built yet")
