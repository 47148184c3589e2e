import Testing

@Test func placeholderImageGenEngineTests() {}
