import PetrelCore

/// The questions `ReceiptMatcher` asks of a store, answered in SQL inside the caller's transaction (see its steps).
/// The SQLite store answers synchronously on its writer thread; `AsyncReceiptLookups` is the same for PostgreSQL.
protocol ReceiptLookups {
    func message(channel: String, storedID: String) throws -> (id: Int64, status: MessageStatus?)?
    func part(channel: String, storedID: String) throws -> ReceiptMatcher.StoredPart?
    func markPart(_ part: ReceiptMatcher.StoredPart, _ r: CarrierReceipt) throws -> Bool
    func partStates(messageId: Int64) throws -> [(MessageStatus, String)]
    func apply(_ update: StatusUpdate) throws -> StatusUpdate?
    func isKnown(channel: String, storedID: String) throws -> Bool
    func keepOrphan(_ r: CarrierReceipt) throws
    func dropOrphan(key: Int64) throws
}

protocol AsyncReceiptLookups {
    func message(channel: String, storedID: String) async throws -> (id: Int64, status: MessageStatus?)?
    func part(channel: String, storedID: String) async throws -> ReceiptMatcher.StoredPart?
    func markPart(_ part: ReceiptMatcher.StoredPart, _ r: CarrierReceipt) async throws -> Bool
    func partStates(messageId: Int64) async throws -> [(MessageStatus, String)]
    func apply(_ update: StatusUpdate) async throws -> StatusUpdate?
    func isKnown(channel: String, storedID: String) async throws -> Bool
    func keepOrphan(_ r: CarrierReceipt) async throws
    func dropOrphan(key: Int64) async throws
}

// The two drivers are the same switch, once with `await`: no decision is taken here.
extension ReceiptMatcher {
    mutating func run(_ store: some ReceiptLookups) throws -> ReceiptResults {
        var step = start()
        while true {
            switch step {
            case .findMessage(let channel, let id):
                step = next(.message(try store.message(channel: channel, storedID: id)))
            case .findPart(let channel, let id): step = next(.part(try store.part(channel: channel, storedID: id)))
            case .markPart(let part, let r): step = next(.marked(try store.markPart(part, r)))
            case .readParts(let id): step = next(.parts(try store.partStates(messageId: id)))
            case .apply(let update): step = next(.applied(try store.apply(update)))
            case .isKnown(let channel, let id): step = next(.known(try store.isKnown(channel: channel, storedID: id)))
            case .keepOrphan(let r):
                try store.keepOrphan(r)
                step = next(.done)
            case .dropOrphan(let key):
                try store.dropOrphan(key: key)
                step = next(.done)
            case .finished: return results
            }
        }
    }

    mutating func run(_ store: some AsyncReceiptLookups) async throws -> ReceiptResults {
        var step = start()
        while true {
            switch step {
            case .findMessage(let channel, let id):
                step = next(.message(try await store.message(channel: channel, storedID: id)))
            case .findPart(let channel, let id):
                step = next(.part(try await store.part(channel: channel, storedID: id)))
            case .markPart(let part, let r): step = next(.marked(try await store.markPart(part, r)))
            case .readParts(let id): step = next(.parts(try await store.partStates(messageId: id)))
            case .apply(let update): step = next(.applied(try await store.apply(update)))
            case .isKnown(let channel, let id):
                step = next(.known(try await store.isKnown(channel: channel, storedID: id)))
            case .keepOrphan(let r):
                try await store.keepOrphan(r)
                step = next(.done)
            case .dropOrphan(let key):
                try await store.dropOrphan(key: key)
                step = next(.done)
            case .finished: return results
            }
        }
    }

    /// Receipts that name single-part messages exactly, found in one query per batch (the hot path): `rows` are
    /// (receipt index, message id, status) in any order. Where a carrier reused an id, the oldest message, as
    /// `findMessage` answers. Returns the changes in receipt order and which receipts found a message.
    static func singlePart(
        _ receipts: [CarrierReceipt],
        rows: [(index: Int, id: Int64, status: MessageStatus?)]
    ) -> (changes: [StatusUpdate], found: [Bool]) {
        var oldest = [(id: Int64, status: MessageStatus?)?](repeating: nil, count: receipts.count)
        for row in rows where receipts.indices.contains(row.index) {
            if let seen = oldest[row.index], seen.id <= row.id { continue }
            oldest[row.index] = (row.id, row.status)
        }
        var changes: [StatusUpdate] = []
        for (i, found) in oldest.enumerated() {
            guard let found, let status = found.status,
                let change = ReceiptRules.change(receipts[i], messageId: found.id, from: status)
            else { continue }
            changes.append(change)
        }
        return (changes, oldest.map { $0 != nil })
    }
}
