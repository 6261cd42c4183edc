import ArgumentParser
import Foundation
import PetrelCore
import PetrelServer
import PetrelStore

struct LimitsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "limits",
        abstract:
            "Sending limits in the store: the caps' counters and the pumping guard's halts (works while a server runs).",
        subcommands: [Show.self, Lift.self]
    )

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The parts counted for limits.caps in the hour, day and month under way (UTC), and halts.",
            discussion: """
                Counters exist for accounts with limits.caps in the server's config; the caps themselves are in \
                the config. A reached cap refuses until its window rolls over by itself. Halts are those \
                limits.pumpingGuard made: they hold until lifted with petrel limits lift.
                """
        )
        @OptionGroup var data: DataDirOption
        @Option(help: "Only this account's (default: every account's).") var account: String?
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let now = nowMs()
            let (counters, halts) = try await withStore(data) { store in
                if let account { try await checkAccount(account, in: store, createFlag: nil) }
                return (
                    try await store.capCounters(account: account, nowMs: now),
                    try await store.pumpingHalts(account: account)
                )
            }
            print(json ? LimitsOutput.json(counters, halts) : LimitsOutput.text(counters, halts))
        }
    }

    struct Lift: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Lift a halt of an account (or of an account in one country).",
            discussion: """
                Lifts the halts limits.pumpingGuard made: every node accepts again within a few seconds, and the \
                guard counts that account and country again from now (what was sent before does not halt it \
                again). A reached cap (limits.caps) is not a halt: it refuses until its calendar window rolls \
                over, then sends resume by themselves; to allow more now, raise the cap in the config and restart.
                """
        )
        @OptionGroup var data: DataDirOption
        @Option(help: "The account.") var account: String
        @Option(
            help: """
                Only its halt in this country (ISO 3166 alpha-2), or `unknown` for numbers whose country Petrel \
                cannot tell.
                """
        ) var country: String?

        func run() async throws {
            // "" is how the store keeps the country of numbers Petrel cannot place.
            let code = country.map { $0.lowercased() == "unknown" ? "" : $0.uppercased() }
            if let code, !code.isEmpty, code.count != 2 || NumberingPlan.shared.region(code) == nil {
                throw CLIError(
                    description:
                        "--country must be an ISO 3166 alpha-2 code Petrel knows or unknown, got \(country ?? "")"
                )
            }
            let now = nowMs()
            let (lifted, counters) = try await withStore(data) { store in
                try await checkAccount(account, in: store, createFlag: nil)
                return (
                    try await store.liftPumpingHalts(account: account, country: code, nowMs: now),
                    try await store.capCounters(account: account, nowMs: now)
                )
            }
            let scope =
                code.map { "account \(account) in \($0.isEmpty ? "no known country" : $0)" } ?? "account \(account)"
            if !lifted.isEmpty {
                print(
                    "Lifted \(lifted.count) pumping guard halt\(lifted.count == 1 ? "" : "s") of \(scope): "
                        + lifted.map(LimitsOutput.line).joined(separator: "; ")
                        + ". Every node accepts these sends again within a few seconds; the guard counts them again "
                        + "from now."
                )
                return
            }
            let mine = counters.filter { code == nil || $0.key.country == code }
            let counted =
                mine.isEmpty
                ? "no parts are counted for it"
                : "its counters: " + mine.map(LimitsOutput.line).joined(separator: "; ")
            print(
                "Nothing to lift for \(scope): there is no halt. A reached cap (limits.caps) refuses until its "
                    + "window rolls over and then sends resume by themselves (\(counted)); to allow more now, raise "
                    + "the cap in the config and restart."
            )
        }
    }
}

enum LimitsOutput {
    static func time(_ ms: Int64) -> String {
        ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: Double(ms) / 1000))
    }

    static func line(_ c: CapCounter) -> String {
        let country = c.key.country.isEmpty ? "all" : c.key.country
        return "\(c.key.window.rawValue) \(country) \(c.parts) parts until \(time(c.end))"
    }

    static func line(_ h: PumpingHalt) -> String {
        "\(h.type.rawValue) to \(h.country.isEmpty ? "unknown" : h.country) (halted at \(time(h.haltedAtMs)): "
            + "\(h.sent) sent, \(h.converted) converted)"
    }

    static func text(_ counters: [CapCounter], _ halts: [PumpingHalt]) -> String {
        var lines = ["ACCOUNT\tCOUNTRY\tWINDOW\tSINCE\tUNTIL\tPARTS"]
        for c in counters {
            let country = c.key.country.isEmpty ? "all" : c.key.country
            lines.append(
                [c.account, country, c.key.window.rawValue, time(c.key.start), time(c.end), String(c.parts)]
                    .joined(separator: "\t")
            )
        }
        guard !halts.isEmpty else {
            lines.append("halts: none")
            return lines.joined(separator: "\n")
        }
        lines.append("")
        lines.append("halts (limits.pumpingGuard; petrel limits lift --account A [--country C] lifts one):")
        lines.append("ACCOUNT\tCOUNTRY\tTYPE\tHALTED AT\tSENT\tCONVERTED\tRATE")
        for h in halts {
            lines.append(
                [
                    h.account, h.country.isEmpty ? "unknown" : h.country, h.type.rawValue, time(h.haltedAtMs),
                    String(h.sent), String(h.converted), PumpingHalt.format(h.rate),
                ].joined(separator: "\t")
            )
        }
        return lines.joined(separator: "\n")
    }

    static func json(_ counters: [CapCounter], _ halts: [PumpingHalt]) -> String {
        let rows: [[String: Any]] = counters.map { c in
            [
                "account": c.account, "country": c.key.country.isEmpty ? "all" : c.key.country,
                "window": c.key.window.rawValue, "since": time(c.key.start), "until": time(c.end), "parts": c.parts,
            ]
        }
        let halted: [[String: Any]] = halts.map { h in
            [
                "account": h.account, "country": h.country.isEmpty ? "unknown" : h.country, "type": h.type.rawValue,
                "since": time(h.haltedAtMs), "sent": h.sent, "converted": h.converted, "rate": h.rate,
            ]
        }
        let object: [String: Any] = ["caps": rows, "halts": halted]
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }
}
