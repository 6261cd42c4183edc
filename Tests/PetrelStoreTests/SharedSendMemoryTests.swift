import Foundation
import PetrelCore
import PostgresNIO
import Testing

@testable import PetrelStore

/// What a node's memory (`PostgresSendMemory`) may and may not learn outside a limited group's lock: reads of
/// the log that move `seen` must not leave it deciding in memory against counters or sends it never read.
@Suite struct SharedSendMemoryTests {
    let now: Int64 = 1_800_000_000_000

    func send(_ id: Int64, to: String = "85291234567", at offset: Int64 = 0) -> WriteBatch {
        WriteBatch(messages: [message(id, to: to, type: .otp, createdAtMs: now + offset)])
    }

    @Test func aPreviewReadingTheOtherNodesRowsDoesNotHideItsCapParts() async throws {
        try await withTwoNodes { a, b in
            let limits = SendLimits(
                perNumber: NumberLimits(anyType: WindowCounts(day: 100)),
                caps: SendCaps([SendCap(account: "acme", day: 4)])
            )
            // a counts two (the second decided in memory), b two more: the cap of 4 is reached.
            #expect(try await a.commit(send(1, to: "85291230001"), limits: limits) == [nil])
            #expect(try await a.commit(send(2, to: "85291230002", at: 1), limits: limits) == [nil])
            #expect(try await b.commit(send(3, to: "85291230003", at: 2), limits: limits) == [nil])
            #expect(try await b.commit(send(4, to: "85291230004", at: 3), limits: limits) == [nil])
            // A campaign preview on a reads b's log rows into memory (its head is now where the database's is)...
            _ = try await a.countedSends(account: "acme", recipients: ["85291230003"], sinceMs: now - 1)
            // ...but not b's cap parts: a must not decide the next send in memory against its old counter.
            let outcome = try await a.commit(send(5, to: "85291230005", at: 4), limits: limits)
            #expect(outcome.map { $0?.code } == ["OUT_OF_SERVICE"])
            #expect(try await a.capCounters(account: "acme", nowMs: now).map(\.parts) == [4])
        }
    }

    @Test func aGroupWithoutACapDoesNotLeaveTheOtherNodesCapPartsUncounted() async throws {
        try await withTwoNodes { a, b in
            // A cap for Singapore only, and OTPs counted per number: NOTIFYs to Singapore write no log row.
            let limits = SendLimits(
                perNumber: NumberLimits(byType: [.otp: WindowCounts(day: 100)]),
                caps: SendCaps([SendCap(account: "acme", country: "SG", day: 3)])
            )
            func toSingapore(_ id: Int64) -> WriteBatch {
                WriteBatch(messages: [message(id, to: "659123456\(id)", type: .notify, createdAtMs: now + id)])
            }
            #expect(try await a.commit(toSingapore(1), limits: limits) == [nil])
            #expect(try await b.commit(toSingapore(2), limits: limits) == [nil])
            #expect(try await b.commit(toSingapore(3), limits: limits) == [nil])
            // An OTP to Hong Kong on a reads no cap counter: it moves a's memory past b's two heads...
            #expect(try await a.commit(send(4, at: 4), limits: limits) == [nil])
            // ...which must not leave a deciding Singapore's counter from what it held before them.
            let outcome = try await a.commit(toSingapore(5), limits: limits)
            #expect(outcome.map { $0?.code } == ["OUT_OF_SERVICE"])
        }
    }

    @Test func aPreviewOfALaterDayDoesNotSkipTheSendsBeforeIt() async throws {
        try await withTwoNodes { a, b in
            let twoADay = NumberLimits(byType: [.otp: WindowCounts(day: 2)])
            #expect(try await b.commit(send(1, at: 0), limits: twoADay) == [nil])
            #expect(try await b.commit(send(2, to: "85291234568", at: 10), limits: twoADay) == [nil])
            // A campaign starting later previews from after b's first send: it does not count it...
            let counted = try await a.countedSends(
                account: "acme",
                recipients: ["85291234567", "85291234568"],
                sinceMs: now + 5
            )
            #expect(counted["85291234567"] == nil && counted["85291234568"]?.count == 1)
            // ...but the accepts of today still do: one more to that number fits, the next does not.
            #expect(try await a.commit(send(3, at: 20), limits: twoADay) == [nil])
            let outcome = try await a.commit(send(4, at: 21), limits: twoADay)
            #expect(outcome.map { $0?.code } == ["isv.BUSINESS_LIMIT_DAY"])
        }
    }

    /// Small and large groups through two nodes at once, with previews reading the log meanwhile: a number's day
    /// and the account's cap hold exactly, and what was counted is what was stored.
    @Test(arguments: 0..<3) func mixedGroupsAndPreviewsThroughTwoNodesHoldBothLimits(round: Int) async throws {
        try await withTwoNodes { a, b in
            let limits = SendLimits(
                perNumber: NumberLimits(byType: [.otp: WindowCounts(day: 10)]),
                caps: SendCaps([SendCap(account: "acme", day: 1500)])
            )
            let hot = "85291234567"
            let large = PostgresStore.oneStatementMessages + 1
            // 40 requests: every fifth a large group (one message to the hot number, the rest to its own numbers).
            let batches: [WriteBatch] = (0..<40).map { i in
                let first = Int64(i * 1000 + 1)
                guard i % 5 == 0 else { return send(first, to: hot, at: Int64(i)) }
                let others = (1..<large).map { n in
                    message(first + Int64(n), to: "8529\(i)\(String(format: "%05d", n))", type: .otp, createdAtMs: now)
                }
                return WriteBatch(messages: [message(first, to: hot, type: .otp, createdAtMs: now)] + others)
            }
            let outcomes = try await withThrowingTaskGroup(of: (Int, [ResponseCode?]).self) { group in
                for (i, batch) in batches.enumerated() {
                    let store = i % 2 == 0 ? a : b
                    group.addTask {
                        if i % 4 == 3 {
                            _ = try await store.countedSends(account: "acme", recipients: [hot], sinceMs: now - 1)
                        }
                        return (i, try await store.commit(batch, limits: limits))
                    }
                }
                var all = [[ResponseCode?]](repeating: [], count: batches.count)
                for try await (i, o) in group { all[i] = o }
                return all
            }
            let hotOutcomes = outcomes.map { $0[0] }
            let accepted = outcomes.joined().filter { $0 == nil }.count
            let hotAccepted = hotOutcomes.filter { $0 == nil }.count
            #expect(hotAccepted <= 10 && accepted <= 1500)
            if hotOutcomes.contains(where: { $0?.code == "isv.BUSINESS_LIMIT_DAY" }) { #expect(hotAccepted == 10) }
            if outcomes.joined().contains(where: { $0?.code == "OUT_OF_SERVICE" }) { #expect(accepted == 1500) }
            #expect(try await a.capCounters(account: "acme", nowMs: now).map(\.parts) == [accepted])
            let stored = try await a.first("SELECT count(*) FROM messages") { try $0.get(0, as: Int64.self) }
            #expect(stored == Int64(accepted))
            // Each node, asked again, agrees with what was stored.
            for node in [a, b] {
                let counted = try await node.countedSends(account: "acme", recipients: [hot], sinceMs: now - 1)
                #expect(counted[hot]?.count == hotAccepted)
            }
        }
    }
}
