import Testing

@Test func engineTestsPlaceholder() {}
