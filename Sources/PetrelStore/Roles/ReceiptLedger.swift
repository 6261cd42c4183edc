public import PetrelCore

/// Carrier receipts matched to the parts they report on; the unmatched kept as orphans for a while.
public protocol ReceiptLedger: Sendable {
    /// Applies carrier receipts to their parts and messages. Unmatched receipts are kept as orphans.
    func applyReceipts(_ receipts: [CarrierReceipt]) async throws -> ReceiptResults
    /// Tries orphaned receipts older than `beforeMs` again under every reading of their ids (hex for decimal and
    /// back): by then a receipt that only overtook its submit_sm_resp has been adopted, so another reading is
    /// no longer ambiguous.
    func resolveOrphans(beforeMs: Int64) async throws -> ReceiptResults
    /// Drops orphaned receipts older than `beforeMs`; returns how many were dropped.
    func dropOrphanReceipts(beforeMs: Int64) async throws -> Int
}
