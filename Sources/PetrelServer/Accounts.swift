public import PetrelStore

/// Account settings: where receipts go and the secret that signs them.
public enum Accounts {
    /// Sets an account's receipt URL ("" stops pushes). Keeps the account's webhook secret unless `secret` is
    /// given; makes one when the account has none. Returns the account as stored.
    @discardableResult
    public static func setReceiptURL(
        store: any ReceiptOutbox,
        account: String,
        url: String,
        secret: String? = nil,
        nowMs: Int64
    ) async throws -> AccountRecord {
        let existing = try await store.accounts().first { $0.name == account }
        let record = AccountRecord(
            name: account,
            receiptURL: url,
            webhookSecret: secret ?? existing?.webhookSecret ?? AccessKeys.random(40),
            updatedAtMs: nowMs
        )
        if record != existing { try await store.putAccount(record) }
        return record
    }

    /// Applies the `accounts:` of the config file.
    static func apply(
        _ settings: [ServerConfiguration.AccountSetting],
        store: any ReceiptOutbox,
        nowMs: Int64
    ) async throws {
        for s in settings {
            let existing = try await store.accounts().first { $0.name == s.name }
            if existing?.receiptURL == s.receiptURL
                && (s.webhookSecret == nil || existing?.webhookSecret == s.webhookSecret)
            {
                continue
            }
            try await setReceiptURL(
                store: store,
                account: s.name,
                url: s.receiptURL,
                secret: s.webhookSecret,
                nowMs: nowMs
            )
        }
    }
}
