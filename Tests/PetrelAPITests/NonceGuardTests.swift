import PetrelStore
import Testing

@testable import PetrelAPI

@Suite struct NonceGuardTests {
    @Test func acceptsOnceUntilTheWindowCloses() {
        let guardian = NonceGuard()
        let d = NonceGuard.digest(accessKeyId: "ak", nonce: "n1")
        #expect(guardian.claim(d, expiresAtMs: 900_000, nowMs: 0))
        #expect(!guardian.claim(d, expiresAtMs: 900_000, nowMs: 10))
        #expect(guardian.claim(NonceGuard.digest(accessKeyId: "other", nonce: "n1"), expiresAtMs: 900_000, nowMs: 10))
        #expect(!guardian.claim(d, expiresAtMs: 900_000, nowMs: 899_999))
        // Forgotten once its minute has passed.
        #expect(guardian.claim(d, expiresAtMs: 2_000_000, nowMs: 1_000_000))
    }

    /// Digests are stored and reloaded after a restart (or an upgrade): their value must never change.
    /// The first 8 bytes, big-endian, of SHA-256("ak\nn1") (Python: `hashlib.sha256(b"ak\nn1").digest()[:8]`).
    @Test func digestIsStable() {
        #expect(NonceGuard.digest(accessKeyId: "ak", nonce: "n1") == -852_127_320_593_868_372)
    }

    @Test func forgetsGraduallyAndWarmsFromTheStore() {
        let guardian = NonceGuard()
        for i in 0..<10_000 { #expect(guardian.claim(Int64(i), expiresAtMs: 60_000, nowMs: 0)) }
        #expect(guardian.count == 10_000)
        _ = guardian.claim(-1, expiresAtMs: 999_999, nowMs: 180_000)
        #expect(guardian.count < 10_000)
        for _ in 0..<3 { _ = guardian.claim(Int64.random(in: -1_000_000 ... -2), expiresAtMs: 999_999, nowMs: 180_000) }
        #expect(guardian.count <= 5)
        guardian.warm([NonceRecord(hash: 77, expiresAtMs: 999_999)])
        #expect(!guardian.claim(77, expiresAtMs: 999_999, nowMs: 180_000))
    }
}
