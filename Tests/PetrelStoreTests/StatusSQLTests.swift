import GRDB
import PetrelCore
import Testing

@testable import PetrelStore

/// Statuses in SQL come from `MessageStatus`; the migrations users' databases already ran must read as they did.
@Suite struct StatusSQLTests {
    @Test func finalStatesAreNumberedLast() {
        let finals = MessageStatus.allCases.filter(\.isFinal)
        #expect(MessageStatus.finalList == finals.map { String($0.rawValue) }.joined(separator: ", "))
        #expect(MessageStatus.allCases.filter { $0.rawValue >= MessageStatus.delivered.rawValue } == finals)
    }

    @Test func sqliteMigrationsSpellStatusesAsBefore() throws {
        let db = try DatabaseQueue()
        try SQLiteSchema.migrator().migrate(db)
        let sql = try db.read { db in
            try [String: String](
                uniqueKeysWithValues: Row.fetchAll(db, sql: "SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL")
                    .map { ($0[0], $0[1]) }
            )
        }
        #expect(
            sql["messages_queue"] == "CREATE INDEX messages_queue ON messages(priority, not_before) WHERE status = 0"
        )
        #expect(sql["messages_expiry"]?.hasSuffix("WHERE status = 0 AND expires_at IS NOT NULL") == true)
        #expect(sql["messages_leases"]?.hasSuffix("WHERE status = 1") == true)
        #expect(sql["messages_final_receipt"]?.contains("WHEN NEW.status >= 3 AND OLD.status < 3\n") == true)
    }

    @Test func postgresMigrationsSpellStatusesAsBefore() throws {
        let v1 = try #require(PostgresSchema.migrations.first { $0.name == "v1" }?.sql)
        #expect(v1.contains("messages(priority, not_before) WHERE status = 0;\n"))
        #expect(v1.contains("messages(expires_at) WHERE status = 0 AND expires_at IS NOT NULL;\n"))
        #expect(v1.contains("messages(lease_until) WHERE status = 1;\n"))
        #expect(v1.contains("WHEN (NEW.status IN (3, 4, 5) AND OLD.status NOT IN (3, 4, 5))\n"))
    }
}
