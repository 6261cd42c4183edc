import Foundation
import PetrelCore

/// SQL text both stores share.
enum StoreSQL {
    /// A message's columns in the order both stores decode them, by position (name lookups cost a lowercased
    /// copy per column).
    static let messageColumns = """
        id, account, recipient, sender, body, type, task_id, requested_channel, priority, segments, encoding, status,
        error_code, error_desc, created_at, not_before, expires_at, sent_at, done_at, channel, carrier_id, api,
        template_code, biz_id
        """

    /// `messageColumns`, each prefixed with a table alias.
    static func messageColumns(_ alias: String) -> String {
        messageColumns.split(separator: ",").map { "\(alias).\($0.trimmingCharacters(in: .whitespacesAndNewlines))" }
            .joined(separator: ", ")
    }
}

/// Statuses as the stores' SQL spells them (their raw values, see `MessageStatus`): interpolated as text, never
/// bound, so that a partial index (`WHERE status = queued`) still matches a query's predicate, and so that the
/// migrations already applied read exactly as they did.
extension MessageStatus {
    var sql: String { String(rawValue) }

    /// The final states as an SQL list: "3, 4, 5".
    static let finalList = allCases.filter(\.isFinal).map(\.sql).joined(separator: ", ")

    /// The lowest final number, for ranges (`status >= finalFloor`): the final states are numbered last, from
    /// delivered up (a test holds this), and SQLite builds an ephemeral b-tree for each `IN (…)` every time a
    /// trigger fires.
    static let finalFloor = delivered.sql
}
