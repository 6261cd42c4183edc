import Foundation
import PetrelCore
public import PetrelStore

/// Creating access keys: ids like Alibaba's (`LTAI` + 20 characters) and 30-character secrets.
public enum AccessKeys {
    /// The shortest secret `PETREL_ACCESS_KEY_SECRET` may give (generated secrets have 30 characters).
    public static let minimumSecretLength = 16

    static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")

    static func random(_ count: Int) -> String {
        var rng = SystemRandomNumberGenerator()
        return String((0..<count).map { _ in alphabet[Int(rng.next(upperBound: UInt32(alphabet.count)))] })
    }

    public static func make(name: String, account: String, policy: String?, nowMs: Int64) -> AccessKeyRecord {
        AccessKeyRecord(
            id: "LTAI" + random(20),
            secret: random(30),
            account: account,
            name: name,
            policy: policy,
            createdAtMs: nowMs
        )
    }

    /// `PETREL_ACCESS_KEY_ID` / `PETREL_ACCESS_KEY_SECRET` make sure that key exists, enabled, with full rights.
    /// Without them, a store with no key at all gets one, returned so the caller can print it once.
    public static func bootstrap(
        store: any KeyStore,
        environment: [String: String],
        nowMs: Int64
    ) async throws -> AccessKeyRecord? {
        if let id = environment["PETREL_ACCESS_KEY_ID"], !id.isEmpty {
            guard let secret = environment["PETREL_ACCESS_KEY_SECRET"], !secret.isEmpty else {
                throw StoreError.invalidLocation("PETREL_ACCESS_KEY_ID is set but PETREL_ACCESS_KEY_SECRET is not")
            }
            guard isPlainIdentifier(id) else {
                throw StoreError.invalidLocation(
                    "PETREL_ACCESS_KEY_ID must be 1 to 128 printable ASCII characters without spaces"
                )
            }
            // A full-rights key on a server meant to face the internet: a short secret is guessed (the console's
            // sign-in is throttled, the API's signatures are not).
            guard secret.count >= minimumSecretLength else {
                throw StoreError.invalidLocation(
                    "PETREL_ACCESS_KEY_SECRET must be at least \(minimumSecretLength) characters (it has \(secret.count))"
                )
            }
            let existing = try await store.accessKey(id: id)
            try await store.putAccessKey(
                AccessKeyRecord(
                    id: id,
                    secret: secret,
                    account: existing?.account ?? "default",
                    name: existing?.name ?? "environment",
                    enabled: true,
                    policy: nil,
                    createdAtMs: existing?.createdAtMs ?? nowMs
                )
            )
            return nil
        }
        guard try await store.accessKeys().isEmpty else { return nil }
        let key = make(name: "initial", account: "default", policy: nil, nowMs: nowMs)
        try await store.putAccessKey(key)
        return key
    }
}
