import ArgumentParser
import Foundation
import NIOCore
import NIOHTTP1
import PetrelAPI
import PetrelDelivery

/// `petrel campaign send`: a mass-messaging campaign from a shell, run by a server through its console API
/// (the same checks, preview and background sending as the web console).
struct CampaignCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "campaign",
        abstract: "Mass messaging from a CSV file.",
        subcommands: [Send.self]
    )

    struct Send: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Upload a CSV, show its preview, start it and follow its progress.",
            discussion: """
                The CSV has a number column (named number, phone, mobile, to or msisdn, or the first column) and any \
                other columns, used as ${column} in the text. A file without a header is a list of numbers.
                The server is the one running on the data directory (--data-dir, else PETREL_DATA_DIR, else \
                ./petrel-data), or --server. It signs in with --key-id/--key-secret (or PETREL_ACCESS_KEY_ID and \
                PETREL_ACCESS_KEY_SECRET), else with a key of --account read from the store.
                """
        )

        @Option(help: "The CSV file.") var csv: String
        @Option(help: "The text, with ${column} placeholders.") var text: String
        @Option(help: "NOTIFY or MKT.") var type = "MKT"
        @Option(help: "Sender ID.") var from: String?
        @Option(help: "ValidityPeriod in seconds.") var validity: Int?
        @Option(help: "Start time, UTC (2026-11-26T08:00); default now.") var start: String?
        @Option(help: "Campaign name.") var name: String?
        @Option(name: .customLong("task-id"), help: "TaskId on every message (default campaign-ID).") var taskId:
            String?
        @OptionGroup var data: DataDirOption
        @Option(help: "The server's URL (default: the server running on the data directory).") var server: String?
        @Option(name: .customLong("key-id")) var keyId: String?
        @Option(name: .customLong("key-secret")) var keySecret: String?
        @Option(help: "Without a key: send as this account, with a key of it from the store (default: the only one).")
        var account: String?
        @Flag(help: "Only upload and preview; leave the campaign as a draft.") var dryRun = false
        @Flag(help: "Start it and return without following its progress.") var noWait = false

        func run() async throws {
            guard let rows = FileManager.default.contents(atPath: csv) else {
                throw CLIError(description: "cannot read \(csv)")
            }
            let address = try ServerAddress.find(flag: self.server, data: data)
            let server = address.url
            let key = try await CommandKey.find(
                id: keyId,
                secret: keySecret,
                account: account,
                action: "dysms:BatchSendMessageToGlobe",
                data: data
            )
            let console = try await ConsoleClient.signIn(server: address, keyId: key.id, secret: key.secret)

            var query: [(String, String)] = [("text", text), ("type", type)]
            if let from { query.append(("from", from)) }
            if let validity { query.append(("validity", String(validity))) }
            if let start { query.append(("start", start)) }
            if let name { query.append(("name", name)) }
            if let taskId { query.append(("task_id", taskId)) }
            let upload = Date()
            let created = try await console.call(
                .POST,
                "/console/api/campaigns?" + FormEncoding.canonicalQuery(query),
                body: Array(rows),
                type: "text/csv"
            )
            let campaign = created["Id"] ?? ""
            print(
                "campaign \(campaign): \(created["ValidRows"] ?? "0") valid rows of \(created["TotalRows"] ?? "0"), \(created["InvalidRows"] ?? "0") invalid, \(created["Parts"] ?? "0") parts (checked in \(String(format: "%.1f", Date().timeIntervalSince(upload))) s)"
            )
            if let report = created["InvalidReport"], !report.isEmpty {
                let lines = report.split(separator: "\n")
                for line in lines.prefix(10) { print("  \(line)") }
                if Int(created["InvalidRows"] ?? "0") ?? 0 > 10 {
                    print("  … all invalid rows: \(server)/console/campaigns/\(campaign)/invalid.csv")
                }
            }
            if dryRun {
                print("draft kept; start it in the console: \(server)/console/campaigns/\(campaign)")
                return
            }
            guard Int(created["ValidRows"] ?? "0") ?? 0 > 0 else { throw CLIError(description: "no valid row to send") }
            _ = try await console.call(.POST, "/console/api/campaigns/\(campaign)/start")
            if noWait { return }
            let started = Date()
            let total = Int(created["ValidRows"] ?? "0") ?? 0
            while true {
                let c = try await console.call(.GET, "/console/api/campaigns/\(campaign)")
                let done = Int(c["Cursor"] ?? "0") ?? 0
                let elapsed = Date().timeIntervalSince(started)
                Self.progress(
                    done: done,
                    total: total,
                    rate: elapsed > 0 ? Double(done) / elapsed : 0,
                    status: c["Status"] ?? ""
                )
                if c["Status"] == "done" || c["Status"] == "cancelled" {
                    print(
                        "\ncampaign \(campaign) \(c["Status"]!): \(c["Accepted"] ?? "0") accepted, \(c["Refused"] ?? "0") refused in \(String(format: "%.1f", elapsed)) s (TaskId \(c["TaskId"] ?? ""))"
                    )
                    return
                }
                try await Task.sleep(for: .milliseconds(500))
            }
        }

        static func progress(done: Int, total: Int, rate: Double, status: String) {
            let width = 30
            let filled = total > 0 ? min(width, done * width / total) : width
            let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
            let pct = total > 0 ? done * 100 / total : 100
            print("\r[\(bar)] \(done)/\(total) \(pct)% \(Int(rate))/s \(status)   ", terminator: "")
            fflush(nil)
        }
    }
}
