import Testing

@Test func placeholderImageGenRPCTests() {}
