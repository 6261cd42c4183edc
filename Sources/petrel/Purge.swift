import ArgumentParser
import Foundation
import PetrelCore
import PetrelServer
import PetrelStore

/// `petrel purge`: deletes final messages finished before a time, now, as the background rounds do past
/// `retention.messages` (in the same batches, so a running server keeps accepting meanwhile).
struct PurgeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "purge",
        abstract: "Delete final messages (with their parts, events and unsent receipts) finished before a time."
    )

    @OptionGroup var data: DataDirOption
    @Option(
        help: "ISO 8601 UTC (2026-11-26T08:00:00Z), epoch milliseconds, or a duration meaning that long ago (30d, 12h)."
    )
    var before: String
    @Option(help: "Only this account's messages.") var account: String?
    @Flag(help: "Print what would be deleted; delete nothing.") var dryRun = false

    func run() async throws {
        let now = nowMs()
        guard
            let cutoff = Int64(before) ?? AlibabaDate.parseISO8601(before).map({ $0 * 1000 })
                ?? RetentionConfiguration.parseDuration(before).map({ now - $0 })
        else {
            throw CLIError(
                description: "--before must be ISO 8601 (2026-11-26T08:00:00Z), epoch milliseconds or a duration "
                    + "like 30d, got \(before)"
            )
        }
        let counts = try await withStore(data) { store in
            if let account { try await checkAccount(account, in: store, createFlag: nil) }
            let accounts = if let account { [account] } else { try await store.retentionAccounts() }
            var total = PurgeCounts()
            for a in accounts {
                if dryRun {
                    total = total + (try await store.purgeableCounts(account: a, finishedBeforeMs: cutoff))
                } else {
                    total =
                        total
                        + (try await Purge(store: store, batch: 1000).messages(account: a, finishedBeforeMs: cutoff))
                }
            }
            return total
        }
        let when = ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: Double(cutoff) / 1000))
        let what =
            "\(counts.messages) messages, \(counts.parts) parts, \(counts.events) events, \(counts.receipts) "
            + "unsent receipts and \(counts.conversions) conversion reports of messages finished (or reported) "
            + "before \(when)"
        print(dryRun ? "Would purge \(what) (dry run: nothing deleted)." : "Purged \(what).")
    }
}
