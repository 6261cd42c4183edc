public import PetrelCore

/// What the sandbox carrier "delivered": the inbox developers read.
public protocol SandboxInbox: Sendable {
    /// Newest first; `account` nil: every account's (the operator's view).
    func sandboxMessages(account: String?, to: String?, limit: Int) async throws -> [SandboxEntry]
    /// `account` nil: every account's; `to` nil: every number's, else only that number's conversation.
    func clearSandbox(account: String?, to: String?) async throws -> Int
}

extension SandboxInbox {
    public func sandboxMessages(to: String?, limit: Int) async throws -> [SandboxEntry] {
        try await sandboxMessages(account: nil, to: to, limit: limit)
    }

    public func clearSandbox() async throws -> Int { try await clearSandbox(account: nil, to: nil) }

    public func clearSandbox(account: String?) async throws -> Int { try await clearSandbox(account: account, to: nil) }
}
