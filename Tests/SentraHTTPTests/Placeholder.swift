import Testing
@testable import SentraHTTP
@Test func placeholder() { #expect(true) }
