import ArgumentParser
import PetrelStore

/// `petrel signs`: the signatures accounts registered through dysmsapi 2017-05-25 (AddSmsSign …), and the
/// operator's approval of them (with `api.approval: manual`, SendSms refuses a sign until it is approved).
struct Signs: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Manage the signatures (SignName) of dysmsapi 2017-05-25 and approve them.",
        subcommands: [Add.self, List.self, Approve.self, Reject.self, Delete.self]
    )

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Register an approved sign for an account.")
        @OptionGroup var data: DataDirOption
        @Argument(help: "The SignName clients will send.") var name: String
        @Option(help: "The account the sign belongs to.") var account = "default"

        func run() async throws {
            guard !name.isEmpty, name.unicodeScalars.count <= 32 else {
                throw CLIError(description: "a sign name is 1 to 32 characters")
            }
            let sign = SignRecord(
                account: account,
                name: name,
                audit: .approved,
                createdAtMs: nowMs(),
                auditedAtMs: nowMs()
            )
            let outcome = try await withStore(data) { store in
                try await checkAccount(account, in: store, createFlag: nil)
                return try await store.addSign(sign, max: Int.max)
            }
            guard outcome == .added else {
                throw CLIError(description: "account \(account) has a sign \(name) already")
            }
            print("sign \(name) added for account \(account), approved")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List an account's signs and their audit state.")
        @OptionGroup var data: DataDirOption
        @Option var account = "default"

        func run() async throws {
            let signs = try await withStore(data) { store in
                try await checkAccount(account, in: store, createFlag: nil)
                return try await store.signs(account: account, offset: 0, limit: Int.max).signs
            }
            for s in signs {
                print("\(s.name)\t\(s.audit.alibabaName)\t\(s.reason)")
            }
        }
    }

    struct Approve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Approve a sign (AUDIT_STATE_PASS).")
        @OptionGroup var data: DataDirOption
        @Argument var name: String
        @Option var account = "default"

        func run() async throws {
            try await review(data, account, "sign", name, .approved, reason: "") {
                try await $0.reviewSign(account: account, name: name, audit: .approved, reason: "", atMs: nowMs())
            }
        }
    }

    struct Reject: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Reject a sign (AUDIT_STATE_NOT_PASS).")
        @OptionGroup var data: DataDirOption
        @Argument var name: String
        @Option var account = "default"
        @Option(help: "Why, as the account reads it (Reason, AuditInfo.RejectInfo).") var reason = ""

        func run() async throws {
            try await review(data, account, "sign", name, .rejected, reason: reason) {
                try await $0.reviewSign(account: account, name: name, audit: .rejected, reason: reason, atMs: nowMs())
            }
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a sign.")
        @OptionGroup var data: DataDirOption
        @Argument var name: String
        @Option var account = "default"

        func run() async throws {
            let found = try await withStore(data) { store in
                try await checkAccount(account, in: store, createFlag: nil)
                return try await store.deleteSign(account: account, name: name)
            }
            guard found else { throw CLIError(description: "no sign \(name) for account \(account)") }
            print("deleted \(name)")
        }
    }
}

/// Records the operator's decision on a sign or template, `change` saying whether there was one.
func review(
    _ data: DataDirOption,
    _ account: String,
    _ what: String,
    _ name: String,
    _ audit: AuditState,
    reason: String,
    _ change: (any MessageStore) async throws -> Bool
) async throws {
    guard reason.unicodeScalars.count <= 500 else { throw CLIError(description: "--reason is at most 500 characters") }
    let found = try await withStore(data) { store in
        try await checkAccount(account, in: store, createFlag: nil)
        return try await change(store)
    }
    guard found else { throw CLIError(description: "no \(what) \(name) for account \(account)") }
    print("\(what) \(name) of account \(account): \(audit.alibabaName)")
}
