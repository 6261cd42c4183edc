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
                The key comes from --key-id/--key-secret or PETREL_ACCESS_KEY_ID/PETREL_ACCESS_KEY_SECRET.
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
        @Option(help: "The server's URL.") var server = "http://127.0.0.1:8080"
        @Option(name: .customLong("key-id")) var keyId: String?
        @Option(name: .customLong("key-secret")) var keySecret: String?
        @Flag(help: "Only upload and preview; leave the campaign as a draft.") var dryRun = false
        @Flag(help: "Start it and return without following its progress.") var noWait = false

        func run() async throws {
            let env = ProcessInfo.processInfo.environment
            guard let id = keyId ?? env["PETREL_ACCESS_KEY_ID"],
                let secret = keySecret ?? env["PETREL_ACCESS_KEY_SECRET"]
            else {
                throw CLIError(
                    description: "give --key-id and --key-secret (or PETREL_ACCESS_KEY_ID and PETREL_ACCESS_KEY_SECRET)"
                )
            }
            guard let data = FileManager.default.contents(atPath: csv) else {
                throw CLIError(description: "cannot read \(csv)")
            }
            let console = try await ConsoleClient.signIn(server: server, keyId: id, secret: secret)

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
                body: Array(data),
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

/// A signed-in console session, for scripts.
struct ConsoleClient {
    let endpoint: WebhookClient.Endpoint
    let cookie: String
    let csrf: String
    let client = WebhookClient()

    static func signIn(server: String, keyId: String, secret: String) async throws -> ConsoleClient {
        guard let endpoint = WebhookClient.Endpoint(url: server.hasSuffix("/") ? server : server + "/") else {
            throw CLIError(description: "--server must be an http://host:port URL")
        }
        let body = Array(FormEncoding.canonicalQuery([("key_id", keyId), ("key_secret", secret)]).utf8)
        let r = try await WebhookClient().request(
            .POST,
            WebhookClient.Endpoint(host: endpoint.host, port: endpoint.port, path: "/console/api/session"),
            body: body,
            headers: [("Content-Type", "application/x-www-form-urlencoded")],
            timeout: .seconds(10)
        )
        let fields = try Self.decode(r)
        guard let setCookie = r.headers.first(where: { $0.0.lowercased() == "set-cookie" })?.1,
            let cookie = setCookie.split(separator: ";").first, let csrf = fields["Csrf"]
        else { throw CLIError(description: "the server did not open a console session") }
        return ConsoleClient(endpoint: endpoint, cookie: String(cookie), csrf: csrf)
    }

    func call(
        _ method: HTTPMethod,
        _ path: String,
        body: [UInt8] = [],
        type: String = "application/x-www-form-urlencoded"
    ) async throws -> [String: String] {
        let r = try await client.request(
            method,
            WebhookClient.Endpoint(host: endpoint.host, port: endpoint.port, path: path),
            body: body,
            headers: [("Content-Type", type), ("Cookie", cookie), ("X-CSRF-Token", csrf)],
            timeout: .seconds(300),
            maxBody: 1 << 20
        )
        return try Self.decode(r)
    }

    static func decode(_ r: WebhookClient.Response) throws -> [String: String] {
        guard let object = (try? JSONSerialization.jsonObject(with: Data(r.body))) as? [String: Any] else {
            throw CLIError(
                description: "unexpected answer \(r.status): \(String(decoding: r.body.prefix(300), as: UTF8.self))"
            )
        }
        var fields: [String: String] = [:]
        for (k, v) in object { fields[k] = v as? String ?? "\(v)" }
        guard r.status == 200 else {
            throw CLIError(
                description:
                    "\(r.status) \(fields["Code"] ?? ""): \(fields["Message"] ?? String(decoding: r.body, as: UTF8.self))"
            )
        }
        return fields
    }
}
