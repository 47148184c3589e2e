import Testing

@Test func placeholderImageGenWireTests() {}
