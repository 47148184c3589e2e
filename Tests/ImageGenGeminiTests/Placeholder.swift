import Testing

@Test func placeholderImageGenGeminiTests() {}
