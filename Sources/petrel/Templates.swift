import ArgumentParser
import Foundation
import PetrelCore
import PetrelStore

struct Templates: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Manage message templates for SendMessageWithTemplate.",
        subcommands: [Add.self, List.self, Delete.self]
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
                print("\(t.account)\t\(t.code)\t\(t.text)")
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
