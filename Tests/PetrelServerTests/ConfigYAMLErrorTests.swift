import Testing

@testable import PetrelServer

/// A config file that is not valid YAML is refused with its line and column in plain words, without the parser's
/// own jargon ("scanner", "parser", Yams' wording) that reached people before (issue 22).
@Suite struct ConfigYAMLErrorTests {
    static let jargon = ["Yams", "YamlError", "scanner", "parser", "composer", "Parser:", "Context:", "error:"]

    @Test(arguments: [
        ("listen: 127.0.0.1:8080\nsandbox: deliveryDelayMs: 5\n", "line 2, column 25", "must be quoted"),
        ("listen: \"127.0.0.1:8080\nlogLevel: info\n", "opened at line 1, column 9", "quoted value is not closed"),
        ("sandbox:\n  deliveryDelayMs: 5\n slowDelayMs: 9\n", "line 3, column 2", "indentation"),
        ("routes: [{channels: [sandbox]}\n", "opened at line 1, column 9", "list ] is not closed"),
        ("logLevel: info\nlogLevel: debug\n", "line 1, column 1", "has the key logLevel more than once"),
        ("listen: *home\n", "line 1, column 9", "refers to no &name anchor"),
        ("sandbox:\n\tdeliveryDelayMs: 5\n", "line 2, column 1", "a tab for indentation"),
        ("hostId: \"a\\qb\"\n", "line 1, column", "unknown \\ escape"),
    ])
    func aYAMLMistakeIsSaidWithItsPlace(yaml: String, place: String, words: String) {
        let text = failure(yaml)
        #expect(text.hasPrefix("the config file is not valid YAML: "), "\(text)")
        #expect(text.contains(place) && text.contains(words), "\(text)")
        for word in Self.jargon { #expect(!text.contains(word), "\(word) in: \(text)") }
    }

    /// The line itself is shown with a caret under the column.
    @Test func theLineIsQuotedWithACaret() {
        let text = failure("listen: 127.0.0.1:8080\nsandbox: deliveryDelayMs: 5\n")
        #expect(text.hasSuffix(":\n  sandbox: deliveryDelayMs: 5\n                          ^"), "\(text)")
    }
}
