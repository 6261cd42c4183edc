import ArgumentParser
import Foundation
import PetrelCore
import PetrelStore

struct Templates: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Manage message templates (SendMessageWithTemplate, SendSms) and approve those accounts made.",
        subcommands: [Add.self, List.self, Approve.self, Reject.self, Delete.self]
    )

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add or replace a template; ${name} marks a variable."
        )
        @OptionGroup var data: DataDirOption
        @Argument(help: "The TemplateCode clients will use.") var code: String
        @Option(help: "The text, with ${variable} placeholders.") var text: String
        @Option(help: "The account the template belongs to.") var account = "default"
        @Flag(name: .customLong("create-account"), help: "Make --account if the store does not have it yet.")
        var createAccount = false

        func run() async throws {
            guard isPlainIdentifier(code, maxLength: 64) else {
                throw CLIError(
                    description: "the template code must be 1 to 64 printable ASCII characters without spaces"
                )
            }
            guard isPlainIdentifier(account, maxLength: 64) else {
                throw CLIError(description: "--account must be 1 to 64 printable ASCII characters without spaces")
            }
            guard !text.isEmpty else { throw CLIError(description: "--text must not be empty") }
            let record = TemplateRecord(account: account, code: code, text: text, createdAtMs: nowMs())
            try await withStore(data) { store in
                try await checkAccount(account, in: store, createFlag: createAccount)
                try await store.putTemplate(record)
            }
            let vars = Template.variables(in: text)
            print(
                "template \(code) saved for account \(account)"
                    + (vars.isEmpty ? "" : "; variables: \(vars.joined(separator: ", "))")
            )
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List templates.")
        @OptionGroup var data: DataDirOption
        @Option(help: "Only this account's templates.") var account: String?

        func run() async throws {
            let templates = try await withStore(data) { store in
                if let account { try await checkAccount(account, in: store, createFlag: nil) }
                return try await store.templates(account: account)
            }
            for t in templates {
                print("\(t.account)\t\(t.code)\t\(t.audit.alibabaName)\t\(t.text)")
            }
        }
    }

    struct Approve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Approve a template (AUDIT_STATE_PASS).")
        @OptionGroup var data: DataDirOption
        @Argument var code: String
        @Option var account = "default"

        func run() async throws {
            try await review(data, account, "template", code, .approved, reason: "") {
                try await $0.reviewTemplate(account: account, code: code, audit: .approved, reason: "", atMs: nowMs())
            }
        }
    }

    struct Reject: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Reject a template (AUDIT_STATE_NOT_PASS).")
        @OptionGroup var data: DataDirOption
        @Argument var code: String
        @Option var account = "default"
        @Option(help: "Why, as the account reads it (Reason, AuditInfo.RejectInfo).") var reason = ""

        func run() async throws {
            try await review(data, account, "template", code, .rejected, reason: reason) {
                try await $0.reviewTemplate(
                    account: account,
                    code: code,
                    audit: .rejected,
                    reason: reason,
                    atMs: nowMs()
                )
            }
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a template.")
        @OptionGroup var data: DataDirOption
        @Argument var code: String
        @Option var account = "default"

        func run() async throws {
            let found = try await withStore(data) { store in
                try await checkAccount(account, in: store, createFlag: nil)
                return try await store.deleteTemplate(account: account, code: code)
            }
            guard found else { throw CLIError(description: "no template \(code) for account \(account)") }
            print("deleted \(code)")
        }
    }
}
