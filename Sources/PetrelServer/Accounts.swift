public import PetrelStore

/// Account settings: where receipts go and the secret that signs them.
public enum Accounts {
    /// The accounts a store knows: "default" (every store's first account) and every account with a key, receipt
    /// settings or a template (messages are not searched: SQLite has no index by account). Commands that name an
    /// account refuse others unless told to create one, so that a mistyped name does not become a new, empty one.
    public static func known(in store: any KeyStore & ReceiptOutbox & TemplateStore) async throws -> Set<String> {
        var names: Set<String> = ["default"]
        for key in try await store.accessKeys() { names.insert(key.account) }
        for account in try await store.accounts() { names.insert(account.name) }
        for template in try await store.templates(account: nil) { names.insert(template.account) }
        return names
    }

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
            updatedAtMs: nowMs,
            moURL: existing?.moURL ?? ""
        )
        if record != existing { try await store.putAccount(record) }
        return record
    }

    /// Sets an account's inbound URL ("" stops pushes), the same way: the webhook secret signs both pushes.
    @discardableResult
    public static func setMoURL(
        store: any ReceiptOutbox,
        account: String,
        url: String,
        secret: String? = nil,
        nowMs: Int64
    ) async throws -> AccountRecord {
        let existing = try await store.accounts().first { $0.name == account }
        let record = AccountRecord(
            name: account,
            receiptURL: existing?.receiptURL ?? "",
            webhookSecret: secret ?? existing?.webhookSecret ?? AccessKeys.random(40),
            updatedAtMs: nowMs,
            moURL: url
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
                && (s.moURL == nil || existing?.moURL == s.moURL)
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
            if let mo = s.moURL { try await setMoURL(store: store, account: s.name, url: mo, nowMs: nowMs) }
        }
    }
}
