import Yams

/// A config file's YAML mistake, said in a sentence with its line and column and the line itself; libyaml's
/// stage names ("scanner", "parser") and Yams' own wording stay out of it.
enum YAMLErrorText {
    static func sentence(_ error: any Error, yaml: String) -> String {
        guard let error = error as? YamlError else { return "the config file cannot be read as YAML" }
        switch error {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            return "line \(mark.line), column \(mark.column): \(plain(problem, context: context))" + quote(mark, yaml)
        case .duplicatedKeysInMapping(let duplicates, let context):
            let keys = duplicates.sorted().joined(separator: ", ")
            return "the mapping that starts at line \(context.mark.line), column \(context.mark.column) has the key "
                + "\(keys) more than once" + quote(context.mark, yaml)
        case .reader(let problem, let offset, _, _):
            let at = offset.map { Self.position(ofUTF8Offset: $0, in: yaml) } ?? ""
            return "\(at)the file is not plain UTF-8 text (\(problem))"
        case .dataCouldNotBeDecoded: return "the file is not UTF-8 text"
        default: return "the config file cannot be read as YAML"
        }
    }

    /// libyaml's problem in plain words, for the mistakes people make in hand-written config files.
    static func plain(_ problem: String, context: YamlError.Context?) -> String {
        let opened = context.map { " (opened at line \($0.mark.line), column \($0.mark.column))" } ?? ""
        let block = context.map { " (in the block that starts at line \($0.mark.line))" } ?? ""
        let within = context?.text ?? ""
        switch problem {
        case "mapping values are not allowed in this context":
            return "a second `key:` on one line; a value that contains \": \" must be quoted"
        case "found unexpected end of stream" where within.contains("quoted scalar"):
            return "a quoted value is not closed\(opened)"
        case "did not find expected ',' or ']'": return "a [ list ] is not closed, or lacks a comma\(opened)"
        case "did not find expected ',' or '}'": return "a { mapping } is not closed, or lacks a comma\(opened)"
        case "did not find expected <document start>", "did not find expected key",
            "did not find expected '-' indicator":
            return "this line's indentation does not match the lines above it\(block)"
        case "found undefined alias": return "a *name refers to no &name anchor above it"
        case "found unknown escape character":
            return "an unknown \\ escape in a double-quoted value (single quotes take backslashes as they are)"
        case "found character that cannot start any token":
            return "a character that cannot start a value here (a tab for indentation, or an unquoted @ or `)"
        default: return "\(problem)\(opened)"
        }
    }

    /// The line the mark is on, with a caret under the column.
    static func quote(_ mark: Mark, _ yaml: String) -> String {
        let lines = yaml.split(separator: "\n", omittingEmptySubsequences: false)
        guard mark.line >= 1, mark.line <= lines.count else { return "" }
        let line = lines[mark.line - 1].prefix(200)
        // At the end of the file there is no line to show.
        guard line.contains(where: { !$0.isWhitespace }) else { return "" }
        let caret = String(repeating: " ", count: max(0, min(mark.column - 1, line.count))) + "^"
        return ":\n  \(line)\n  \(caret)"
    }

    static func position(ofUTF8Offset offset: Int, in yaml: String) -> String {
        let before = Array(yaml.utf8.prefix(max(0, offset)))
        let line = before.filter { $0 == UInt8(ascii: "\n") }.count + 1
        let column = before.count - (before.lastIndex(of: UInt8(ascii: "\n")).map { $0 + 1 } ?? 0) + 1
        return "line \(line), column \(column): "
    }
}
