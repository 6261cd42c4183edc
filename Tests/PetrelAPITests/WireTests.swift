import Foundation
import Testing

@testable import PetrelAPI

@Suite struct FormEncodingTests {
    @Test func plusIsSpaceAndPercentIsUTF8() throws {
        let pairs = try FormEncoding.decode("Message=Hi+%26+bye+%C3%9C%2B&Empty=&Flag&&To=852")
        #expect(pairs.map(\.0) == ["Message", "Empty", "Flag", "To"])
        #expect(pairs[0].1 == "Hi & bye Ü+")
        #expect(pairs[1].1 == "" && pairs[2].1 == "")
    }

    @Test func badEscapesAreRejected() {
        #expect(throws: FormEncoding.DecodingError.self) { try FormEncoding.decode("a=%zz") }
        #expect(throws: FormEncoding.DecodingError.self) { try FormEncoding.decode("a=%C3") }
        #expect(throws: FormEncoding.DecodingError.self) { try FormEncoding.decode("a=%4") }
    }

    @Test func rfc3986() {
        #expect(FormEncoding.percentEncode("a b*~'()/+é") == "a%20b%2A~%27%28%29%2F%2B%C3%A9")
        #expect(FormEncoding.canonicalQuery([("b", "2"), ("a", "x y"), ("B", "1")]) == "B=1&a=x%20y&b=2")
    }
}

@Suite struct JSONStringArrayTests {
    @Test func parses() {
        #expect(JSONStringArray.parse(#"["852", "65\u0031", "a\"b\\c\/"]"#) == ["852", "651", "a\"b\\c/"])
        #expect(JSONStringArray.parse(" [ ] ") == [])
        #expect(JSONStringArray.parse(#"["\ud83d\ude00"]"#) == ["😀"])
    }

    @Test func rejects() {
        for bad in [
            #"[852]"#, #"["a",]"#, #"["a""#, #"{"a":1}"#, #"["a"] x"#, "", #"["\x"]"#, #"["\ud83d"]"#, "[\"a\nb\"]",
        ] {
            #expect(JSONStringArray.parse(bad) == nil, "\(bad)")
        }
    }
}

@Suite struct PolicyTests {
    @Test func explicitDenyWinsAndNoAllowDenies() throws {
        let policy = try Policy.parse(
            #"""
            {"Version":"1","Statement":[
              {"Effect":"Allow","Action":["dysms:*"],"Resource":"*"},
              {"Effect":"Deny","Action":"dysms:Batch*","Resource":["*"]}]}
            """#
        )
        #expect(policy.evaluate(action: "dysms:SendMessageToGlobe", account: "a") == .allow)
        #expect(policy.evaluate(action: "dysms:BatchSendMessageToGlobe", account: "a") == .explicitDeny)
        let narrow = try Policy.parse(
            #"{"Version":"1","Statement":{"Effect":"Allow","Action":"dysms:QueryMessage","Resource":"*"}}"#
        )
        #expect(narrow.evaluate(action: "dysms:querymessage", account: "a") == .allow)
        #expect(narrow.evaluate(action: "dysms:SendMessageToGlobe", account: "a") == .implicitDeny)
        let otherService = try Policy.parse(
            #"{"Version":"1","Statement":[{"Effect":"Allow","Action":"*","Resource":"acs:ecs:*"}]}"#
        )
        #expect(otherService.evaluate(action: "dysms:SendMessageToGlobe", account: "a") == .implicitDeny)
    }

    @Test func invalidPolicies() {
        for bad in [
            "[]", #"{"Version":"2","Statement":[]}"#, #"{"Statement":[{"Effect":"Maybe","Action":"*"}]}"#,
            #"{"Statement":[{"Effect":"Allow"}]}"#,
        ] {
            #expect(throws: Policy.ParseError.self) { try Policy.parse(bad) }
        }
    }
}

@Suite struct ThrottleTests {
    @Test func tokenBucket() {
        let t = Throttle(limits: ["QueryMessage": 2])
        #expect(t.acquire(key: "k", action: "QueryMessage", nowMs: 0) == nil)
        #expect(t.acquire(key: "k", action: "QueryMessage", nowMs: 0) == nil)
        let wait = t.acquire(key: "k", action: "QueryMessage", nowMs: 0)
        #expect(wait == 500)
        #expect(t.acquire(key: "other", action: "QueryMessage", nowMs: 0) == nil)
        #expect(t.acquire(key: "k", action: "SendMessageToGlobe", nowMs: 0) == nil)
        #expect(t.acquire(key: "k", action: "QueryMessage", nowMs: 500) == nil)
    }
}
