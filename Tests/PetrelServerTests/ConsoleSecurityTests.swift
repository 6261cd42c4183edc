import Testing

@testable import PetrelAPI
@testable import PetrelServer

/// Issue 20: the multipart parser (F8), the sign-in throttle (F14) and the policy comparison the console uses (F7).
@Suite struct ConsoleSecurityTests {
    static func body(_ boundary: String, _ fields: [(String, String)], close: Bool = true) -> [UInt8] {
        var s = ""
        for (k, v) in fields { s += "--\(boundary)\r\nContent-Disposition: form-data; name=\"\(k)\"\r\n\r\n\(v)\r\n" }
        if close { s += "--\(boundary)--\r\n" }
        return Array(s.utf8)
    }

    @Test func parsesFieldsAndFiles() throws {
        var bytes = Self.body("xyz", [("csrf", "t"), ("text", "hello\r\nworld")], close: false)
        bytes += Array(
            "--xyz\r\nContent-Disposition: form-data; name=\"csv\"; filename=\"a.csv\"\r\n\r\n1,2\r\n--xyz--\r\n".utf8
        )
        let parts = try #require(Multipart.parse(bytes, boundary: "xyz"))
        #expect(parts.map(\.name) == ["csrf", "text", "csv"])
        #expect(parts[1].text == "hello\r\nworld" && parts[2].filename == "a.csv" && parts[2].text == "1,2")
    }

    @Test func boundaryIsOneToSeventyCharacters() {
        #expect(
            Multipart.boundary(contentType: "multipart/form-data; boundary=\(String(repeating: "b", count: 70))")
                == .some(String(repeating: "b", count: 70))
        )
        #expect(
            Multipart.boundary(contentType: "multipart/form-data; boundary=\(String(repeating: "b", count: 71))")
                == .some(nil)
        )
        #expect(Multipart.boundary(contentType: "multipart/form-data; boundary=\"\"") == .some(nil))
        #expect(Multipart.boundary(contentType: "multipart/form-data") == .some(nil))
        #expect(Multipart.boundary(contentType: "text/plain") == nil)
        let long = String(repeating: "a", count: 71)
        #expect(Multipart.parse(Self.body(long, [("a", "b")]), boundary: long) == nil)
        #expect(throws: Form.Malformed.self) {
            try Form.parse(Self.body(long, [("a", "b")]), type: "multipart/form-data; boundary=\(long)", partial: false)
        }
    }

    @Test func partCountIsBounded() {
        let fields = (0..<Multipart.maxParts).map { ("f\($0)", "v") }
        #expect(Multipart.parse(Self.body("b", fields), boundary: "b")?.count == Multipart.maxParts)
        #expect(Multipart.parse(Self.body("b", fields + [("one", "more")]), boundary: "b") == nil)
    }

    /// The old parser took any boundary and compared the whole delimiter wherever its first byte matched: a 96 KB
    /// login body with a 48 KB boundary of dashes took seconds. Now such a boundary is refused, and the worst body
    /// for a 70-byte boundary (runs of 71 dashes) is linear: 1 MB of it in well under a second or two.
    @Test func hostileBodiesAreLinear() {
        let longBoundary = String(repeating: "-", count: 48 * 1024)
        let dashes = [UInt8](repeating: UInt8(ascii: "-"), count: 96 * 1024)
        var runs: [UInt8] = []
        while runs.count < 1 << 20 { runs += [UInt8](repeating: UInt8(ascii: "-"), count: 71) + [UInt8(ascii: "x")] }
        let took = ContinuousClock().measure {
            #expect(Multipart.parse(dashes, boundary: longBoundary) == nil)
            #expect(Multipart.parse(runs, boundary: String(repeating: "-", count: 70)) == nil)
        }
        #expect(took < .seconds(2))
    }

    @Test func truncatedAndMalformedBodiesNeverTrap() {
        let full = Self.body("b", [("csrf", "t"), ("x", "y")])
        for n in 0...full.count {
            _ = Multipart.parse(Array(full[..<n]), boundary: "b")
            _ = Multipart.parse(Array(full[..<n]), boundary: "b", partial: true)
        }
        // A cut-short upload still shows its first complete field (the CSRF token) when read partially.
        let prefix = Array(full[..<(full.count - 10)])
        #expect(Multipart.parse(prefix, boundary: "b") == nil)
        #expect(Multipart.parse(prefix, boundary: "b", partial: true)?.first?.text == "t")
        let form = try? Form.parse(
            Array("csrf=abc&text=hel".utf8),
            type: "application/x-www-form-urlencoded",
            partial: true
        )
        #expect(form?["csrf"] == "abc" && form?["text"] == nil)
    }

    @Test func failedSignInsWaitLongerAndSuccessResets() {
        let t = SignInThrottle(free: 5, maxLockMs: 8000, forgetMs: 60_000, capacity: 100)
        for _ in 0..<4 { t.failed(keyId: "k", address: "a", nowMs: 0) }
        #expect(t.wait(keyId: "k", address: "b", nowMs: 0) == 0)
        t.failed(keyId: "k", address: "a", nowMs: 0)
        #expect(t.wait(keyId: "k", address: "other", nowMs: 0) == 1000)  // by key id
        #expect(t.wait(keyId: "other", address: "a", nowMs: 0) == 1000)  // by address
        t.failed(keyId: "k", address: "a", nowMs: 1000)
        t.failed(keyId: "k", address: "a", nowMs: 3000)
        #expect(t.wait(keyId: "k", address: "x", nowMs: 3000) == 4000)
        for i in 0..<40 { t.failed(keyId: "k", address: "a", nowMs: 4000 + Int64(i)) }
        #expect(t.wait(keyId: "k", address: "x", nowMs: 4039) == 8000)  // capped, no overflow
        t.succeeded(keyId: "k", address: "a")
        #expect(t.wait(keyId: "k", address: "a", nowMs: 4039) == 0)
    }

    @Test func throttleTablesAreBounded() {
        let t = SignInThrottle(free: 5, maxLockMs: 8000, forgetMs: 60_000, capacity: 100)
        for i in 0..<10_000 { t.failed(keyId: "guess\(i)", address: "10.0.\(i / 256).\(i % 256)", nowMs: Int64(i)) }
        #expect(t.count.keys <= 100 && t.count.addresses <= 100)
    }

    @Test func aKeyCoversOnlyKeysWithNoMoreRights() {
        func policy(_ actions: [String]) -> String {
            #"{"Version":"1","Statement":[{"Effect":"Allow","Action":[\#(actions.map { "\"\($0)\"" }.joined(separator: ","))],"Resource":"*"}]}"#
        }
        let all = ConsoleAction.all
        let keys = policy(["petrel:ManageKeys"])
        let globe = policy(["dysms:SendMessageToGlobe"])
        #expect(Policy.covers(nil, keys, actions: all, account: "a"))
        #expect(!Policy.covers(keys, nil, actions: all, account: "a"))
        #expect(!Policy.covers(keys, globe, actions: all, account: "a"))
        #expect(Policy.covers(keys, keys, actions: all, account: "a"))
        #expect(Policy.covers(policy(["dysms:*", "petrel:*"]), globe, actions: all, account: "a"))
        // A wildcard broader than the acting key's explicit list is a stronger key.
        let explicit = policy(all.dropLast().map { $0 })
        #expect(!Policy.covers(explicit, policy(["*"]), actions: all, account: "a"))
        #expect(!Policy.allows("not json", action: "dysms:QueryMessage", account: "a"))
    }
}
