import PetrelCore
import PetrelStore
import Testing

/// dysmsapi 2017-05-25's signs and templates on every backend: per account, capped, paged, reviewed.
@Suite struct SignConformanceTests {
    @Test(arguments: StoreKind.allCases)
    func signsArePerAccountCappedPagedAndReviewed(kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            #expect(try await store.signUse(account: "acme", name: "阿里云") == .anySign)
            let a = SignRecord(account: "acme", name: "阿里云", source: 2, type: 0, audit: .pending, createdAtMs: 10)
            #expect(try await store.addSign(a, max: 2) == .added)
            #expect(try await store.addSign(a, max: 2) == .exists)
            var b = a
            b.name = "Petrel"
            #expect(try await store.addSign(b, max: 2) == .added)
            var c = a
            c.name = "Third"
            #expect(try await store.addSign(c, max: 2) == .full)
            // Another account's are its own: same name, its own cap.
            var other = a
            other.account = "other"
            #expect(try await store.addSign(other, max: 2) == .added)
            #expect(try await store.signUse(account: "acme", name: "阿里云") == .registered(.pending))
            #expect(try await store.signUse(account: "acme", name: "Nobody") == .unknown)

            #expect(try await store.sign(account: "acme", name: "阿里云") == a)
            let page = try await store.signs(account: "acme", offset: 1, limit: 1)
            #expect(page.total == 2)
            #expect(page.signs.map(\.name) == ["阿里云"])

            #expect(
                try await store.reviewSign(account: "acme", name: "Petrel", audit: .rejected, reason: "no", atMs: 20)
            )
            #expect(
                try await store.reviewSign(account: "acme", name: "None", audit: .approved, reason: "", atMs: 20)
                    == false
            )
            let reviewed = try await store.sign(account: "acme", name: "Petrel")
            #expect(reviewed?.audit == .rejected)
            #expect(reviewed?.reason == "no")
            #expect(reviewed?.auditedAtMs == 20)

            var changed = b
            changed.remark = "resubmitted"
            changed.audit = .approved
            #expect(try await store.updateSign(changed))
            #expect(try await store.sign(account: "acme", name: "Petrel") == changed)
            c.account = "nobody"
            #expect(try await store.updateSign(c) == false)

            #expect(try await store.deleteSign(account: "acme", name: "Petrel"))
            #expect(try await store.deleteSign(account: "acme", name: "Petrel") == false)
            #expect(try await store.sign(account: "other", name: "阿里云") == other)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func templatesKeepTheirAuditBesideTheOperatorsOwn(kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            // The operator's template (console, CLI) is approved.
            try await store.putTemplate(
                TemplateRecord(account: "acme", code: "OWN", text: "Hi ${name}", createdAtMs: 1)
            )
            #expect(try await store.template(account: "acme", code: "OWN")?.audit == .approved)

            let t = TemplateRecord(
                account: "acme",
                code: "SMS_1",
                text: "Code ${code}",
                createdAtMs: 5,
                name: "login",
                type: 0,
                remark: "for login",
                audit: .pending
            )
            #expect(try await store.addTemplate(t, max: 3) == .added)
            #expect(try await store.addTemplate(t, max: 3) == .exists)
            var full = t
            full.code = "SMS_2"
            #expect(try await store.addTemplate(full, max: 2) == .full)
            #expect(try await store.template(account: "acme", code: "SMS_1") == t)

            let page = try await store.templates(account: "acme", offset: 0, limit: 1)
            #expect(page.total == 2)
            #expect(page.templates.map(\.code) == ["OWN"])
            #expect(try await store.templates(account: "other", offset: 0, limit: 10).total == 0)

            #expect(
                try await store.reviewTemplate(account: "acme", code: "SMS_1", audit: .rejected, reason: "ads", atMs: 9)
            )
            #expect(try await store.template(account: "acme", code: "SMS_1")?.reason == "ads")
            #expect(
                try await store.reviewTemplate(account: "other", code: "SMS_1", audit: .approved, reason: "", atMs: 9)
                    == false
            )

            var modified = t
            modified.text = "Your code: ${code}"
            modified.audit = .approved
            modified.auditedAtMs = 12
            #expect(try await store.updateTemplate(modified))
            #expect(try await store.template(account: "acme", code: "SMS_1") == modified)
            // What waits for the operator, every account's, oldest first.
            var waiting = t
            waiting.code = "SMS_3"
            waiting.account = "other"
            waiting.createdAtMs = 1
            _ = try await store.addTemplate(waiting, max: 10)
            try await store.putTemplate(TemplateRecord(account: "acme", code: "LATE", text: "x", createdAtMs: 99))
            _ = try await store.addSign(SignRecord(account: "z", name: "S", audit: .pending, createdAtMs: 3), max: 9)
            _ = try await store.addSign(SignRecord(account: "z", name: "T", audit: .approved, createdAtMs: 4), max: 9)
            let review = try await store.awaitingReview(limit: 1)
            #expect(review.templates.map(\.code) == ["SMS_3"])
            #expect(review.signs.map(\.name) == ["S"])
            #expect(try await store.awaitingReview(limit: 10).templates.map(\.code) == ["SMS_3"])
            // Shared with SendMessageWithTemplate's list.
            #expect(try await store.templates(account: "acme").map(\.code) == ["LATE", "OWN", "SMS_1"])
            #expect(try await store.deleteTemplate(account: "acme", code: "SMS_1"))
            modified.account = "other"
            #expect(try await store.updateTemplate(modified) == false)
        }
    }
}
