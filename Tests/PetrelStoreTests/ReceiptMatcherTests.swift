import PetrelCore
import Testing

@testable import PetrelStore

/// The receipt matcher against a table in memory: every decision without a database.
@Suite struct ReceiptMatcherTests {
    @Test func exactIdsNameTheOldestSinglePartMessage() {
        let receipts = [
            CarrierReceipt(channel: "smpp", carrierId: "A1", status: .delivered, atMs: 9),
            CarrierReceipt(channel: "smpp", carrierId: "zz", status: .delivered, atMs: 9),
            CarrierReceipt(channel: "smpp", carrierId: "b2", status: .failed, errorCode: "UNDELIV", atMs: 9),
        ]
        // Rows in any order; receipt 0's id was reused (messages 7 and 5), receipt 2's message is already final.
        let (changes, found) = ReceiptMatcher.singlePart(
            receipts,
            rows: [(0, 7, .sent), (2, 8, .delivered), (0, 5, .sent), (9, 1, .sent)]
        )
        #expect(found == [true, false, true])
        #expect(changes == [StatusUpdate(id: 5, status: .delivered, atMs: 9)])
    }

    @Test func aPartIsFoundByItsExactIdAndTheLastPartDecides() throws {
        let table = Table()
        table.parts = [
            .init(messageId: 3, part: 1, total: 2, channel: "smpp", carrierId: "p1"),
            .init(messageId: 3, part: 2, total: 2, channel: "smpp", carrierId: "p2"),
        ]
        var matcher = ReceiptMatcher.receipts([
            CarrierReceipt(channel: "smpp", carrierId: "P1", status: .delivered, atMs: 5)
        ])
        var r = try matcher.run(table)
        #expect(r.matched == 1 && r.finished.isEmpty && r.orphaned == 0)
        matcher = .receipts([
            CarrierReceipt(channel: "smpp", carrierId: "p2", status: .delivered, atMs: 6),
            CarrierReceipt(channel: "smpp", carrierId: "p2", status: .failed, atMs: 7),  // a duplicate
        ])
        r = try matcher.run(table)
        #expect(r.matched == 2 && r.finished == [StatusUpdate(id: 3, status: .delivered, atMs: 6)])
        #expect(table.statuses[3] == .delivered)
    }

    @Test func aKnownReadingIsTriedAfterTheExactPart() {
        // Steps for a decimal receipt on a channel whose submit_sm_resp ids are hex: the exact id as a part first,
        // then the hex spelling as a message.
        var matcher = ReceiptMatcher.receipts([
            CarrierReceipt(channel: "smpp", carrierId: "255", status: .delivered, atMs: 4, reading: .decimalForHex)
        ])
        #expect(matcher.start() == .findPart(channel: "smpp", storedID: "255"))
        #expect(matcher.next(.part(nil)) == .findMessage(channel: "smpp", storedID: "ff"))
        let change = StatusUpdate(id: 8, status: .delivered, atMs: 4)
        #expect(matcher.next(.message((8, .sent))) == .apply(change))
        #expect(matcher.next(.applied(change)) == .finished)
        #expect(matcher.results.finished == [change] && matcher.results.matched == 1)
    }

    @Test(arguments: [
        (CarrierID.Reading.decimalForHex, "ff", "255"), (CarrierID.Reading.hexForDecimal, "255", "FF"),
    ])
    func readingsMatchAcrossIdFormats(reading: CarrierID.Reading, stored: String, quoted: String) throws {
        let table = Table()
        table.messages = [.init(id: 1, channel: "smpp", carrierId: stored, status: .sent)]
        var matcher = ReceiptMatcher.receipts([
            CarrierReceipt(
                channel: "smpp",
                carrierId: quoted,
                status: .failed,
                errorCode: "UNDELIV",
                atMs: 3,
                reading: reading
            )
        ])
        let r = try matcher.run(table)
        #expect(r.finished.map(\.id) == [1] && r.finished.first?.errorCode == "UNDELIV")
        #expect(table.orphans.isEmpty)
    }

    @Test func unmatchedReceiptsAreKeptAsOrphansUnderTheirNormalisedId() throws {
        let table = Table()
        var matcher = ReceiptMatcher.receipts([
            CarrierReceipt(channel: "smpp", carrierId: "00AB", status: .expired, atMs: 2)
        ])
        let r = try matcher.run(table)
        #expect(r.orphaned == 1 && r.matched == 0)
        #expect(
            table.orphans.map(\.receipt) == [
                CarrierReceipt(channel: "smpp", carrierId: "ab", status: .expired, atMs: 2)
            ]
        )
    }

    @Test func orphansResolveExactlyOnceTheirSubmitIsRecorded() throws {
        let table = Table()
        table.orphans = [orphan(1, "smpp", "c1", .delivered)]
        table.messages = [.init(id: 4, channel: "smpp", carrierId: "c1", status: .sent)]
        var matcher = ReceiptMatcher.resolve(table.orphans)
        let r = try matcher.run(table)
        #expect(r.matched == 1 && r.finished.map(\.id) == [4] && r.readings.isEmpty)
        #expect(table.orphans.isEmpty && table.statuses[4] == .delivered)
    }

    @Test func aReadingExplainingHalfTheOrphansIsTrusted() throws {
        let table = Table()
        table.messages = (1...3).map {
            .init(id: Int64($0), channel: "smpp", carrierId: String($0 + 9, radix: 16), status: .sent)
        }
        // Three decimal receipts naming hex ids (10, 11, 12 → a, b, c), three lost copies: half explained.
        table.orphans = ["10", "11", "12", "lost1", "lost2", "lost3"].enumerated().map {
            orphan(Int64($0), "smpp", $1, .delivered)
        }
        var matcher = ReceiptMatcher.resolve(table.orphans)
        let r = try matcher.run(table)
        #expect(r.readings == ["smpp": [.decimalForHex: 3]])
        #expect(r.matched == 3 && Set(r.finished.map(\.id)) == [1, 2, 3])
        #expect(table.orphans.map(\.receipt.carrierId) == ["lost1", "lost2", "lost3"])
    }

    @Test func ambiguousOrScantEvidenceLeavesOrphansAlone() throws {
        let table = Table()
        // "10" is hex for 16 and decimal for a: both readings explain something, so neither is trusted.
        table.messages = [
            .init(id: 1, channel: "smpp", carrierId: "a", status: .sent),
            .init(id: 2, channel: "smpp", carrierId: "16", status: .sent),
        ]
        table.orphans = [orphan(1, "smpp", "10", .delivered)]
        var matcher = ReceiptMatcher.resolve(table.orphans)
        var r = try matcher.run(table)
        #expect(r.matched == 0 && r.readings.isEmpty && table.orphans.count == 1)
        // One reading, but for fewer than half of the channel's orphans.
        table.messages = [.init(id: 1, channel: "smpp", carrierId: "a", status: .sent)]
        table.orphans += ["x", "y"].enumerated().map { orphan(Int64($0 + 2), "smpp", $1, .delivered) }
        matcher = .resolve(table.orphans)
        r = try matcher.run(table)
        #expect(r.matched == 0 && r.readings.isEmpty && table.orphans.count == 3)
    }

    @Test func adoptedOrphansAreAppliedAndDropped() throws {
        let table = Table()
        table.parts = [.init(messageId: 6, part: 1, total: 1, channel: "smpp", carrierId: "q")]
        table.orphans = [orphan(1, "smpp", "q", .failed, code: "REJECTD")]
        var matcher = ReceiptMatcher.adopt(table.orphans)
        let r = try matcher.run(table)
        #expect(r.finished.map(\.status) == [.failed] && r.finished.first?.errorCode == "REJECTD")
        #expect(table.orphans.isEmpty)
    }

    func orphan(
        _ key: Int64,
        _ channel: String,
        _ id: String,
        _ status: MessageStatus,
        code: String = ""
    )
        -> ReceiptMatcher.Orphan
    {
        ReceiptMatcher.Orphan(
            key: key,
            receipt: CarrierReceipt(channel: channel, carrierId: id, status: status, errorCode: code, atMs: 1)
        )
    }
}

/// Messages, parts and orphans in memory, answering as the stores' SQL does.
private final class Table: ReceiptLookups {
    struct StoredMessage {
        var id: Int64
        var channel: String
        var carrierId: String
        var status: MessageStatus
    }

    struct StoredPart {
        var messageId: Int64
        var part: Int
        var total: Int
        var channel: String
        var carrierId: String
        var status = MessageStatus.sent
        var errorCode = ""
    }

    var messages: [StoredMessage] = []
    var parts: [StoredPart] = []
    var orphans: [ReceiptMatcher.Orphan] = []
    var statuses: [Int64: MessageStatus] = [:]

    func message(channel: String, storedID: String) -> (id: Int64, status: MessageStatus?)? {
        messages.filter { $0.channel == channel && $0.carrierId == storedID && !storedID.isEmpty }.min { $0.id < $1.id }
            .map { ($0.id, statuses[$0.id] ?? $0.status) }
    }

    func part(channel: String, storedID: String) -> ReceiptMatcher.StoredPart? {
        parts.last { $0.channel == channel && $0.carrierId == storedID }
            .map { ReceiptMatcher.StoredPart(messageId: $0.messageId, part: $0.part, total: $0.total) }
    }

    func markPart(_ part: ReceiptMatcher.StoredPart, _ r: CarrierReceipt) -> Bool {
        guard
            let i = parts.firstIndex(where: {
                $0.messageId == part.messageId && $0.part == part.part && $0.status == .sent
            })
        else { return false }
        parts[i].status = r.status
        parts[i].errorCode = r.errorCode
        return true
    }

    func partStates(messageId: Int64) -> [(MessageStatus, String)] {
        parts.filter { $0.messageId == messageId }.map { ($0.status, $0.errorCode) }
    }

    func apply(_ update: StatusUpdate) -> StatusUpdate? {
        let now = statuses[update.id] ?? messages.first { $0.id == update.id }?.status ?? .sent
        guard now.canMove(to: update.status) else { return nil }
        statuses[update.id] = update.status
        return update
    }

    func isKnown(channel: String, storedID: String) -> Bool {
        message(channel: channel, storedID: storedID) != nil || part(channel: channel, storedID: storedID) != nil
    }

    func keepOrphan(_ r: CarrierReceipt) {
        orphans.append(ReceiptMatcher.Orphan(key: Int64(orphans.count + 100), receipt: r))
    }

    func dropOrphan(key: Int64) {
        orphans.removeAll { $0.key == key }
    }
}
