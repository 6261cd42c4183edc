import PetrelCore

/// What carrier receipts mean for their messages: the rules every store applies, kept apart from the SQL.
enum ReceiptRules {
    /// The error code and description a single-part message gets from a receipt.
    static func outcome(_ r: CarrierReceipt) -> (code: String, description: String) {
        let description =
            r.status == .delivered
            ? ""
            : r.status == .expired
                ? "The carrier could not deliver the message before it expired" : text(r.errorCode)
        return (r.status == .expired && r.errorCode.isEmpty ? "EXPIRED" : r.errorCode, description)
    }

    /// The change a receipt makes to a single-part message now in `status`; nil for a duplicate, or for a message
    /// not yet handed to a carrier.
    static func change(_ r: CarrierReceipt, messageId: Int64, from status: MessageStatus) -> StatusUpdate? {
        guard status != .queued, status.canMove(to: r.status) else { return nil }
        let (code, description) = outcome(r)
        return StatusUpdate(
            id: messageId,
            status: r.status,
            errorCode: code,
            errorDescription: description,
            atMs: r.atMs
        )
    }

    static func text(_ code: String) -> String {
        switch code {
        case "UNDELIV": return "The carrier reported the message undeliverable"
        case "REJECTD": return "The carrier rejected the message"
        case "DELETED": return "The carrier deleted the message"
        case "UNKNOWN": return "The carrier reported an unknown state"
        default: return "The carrier reported a failure (\(code))"
        }
    }

    /// A multipart message is decided by its parts' final states: failed (or expired) as soon as any part is,
    /// delivered when every part is; nil while parts are still pending.
    static func decide(
        messageId: Int64,
        parts states: [(MessageStatus, String)],
        total: Int,
        atMs: Int64
    ) -> StatusUpdate? {
        if let failed = states.first(where: { $0.0 == .failed }) {
            return StatusUpdate(
                id: messageId,
                status: .failed,
                errorCode: failed.1,
                errorDescription: text(failed.1),
                atMs: atMs
            )
        }
        if let expired = states.first(where: { $0.0 == .expired }) {
            return StatusUpdate(
                id: messageId,
                status: .expired,
                errorCode: expired.1.isEmpty ? "EXPIRED" : expired.1,
                errorDescription: "The carrier could not deliver the message before it expired",
                atMs: atMs
            )
        }
        if states.filter({ $0.0 == .delivered }).count >= total {
            return StatusUpdate(id: messageId, status: .delivered, atMs: atMs)
        }
        return nil
    }

    /// Which other reading of carrier ids to trust, per channel, given which old orphans each reading explains
    /// (indexes into the examined list). A reading is trusted only when it alone explains at least half of the
    /// channel's old orphans: receipts of copies whose submit_sm_resp was lost (a crash, a dropped bind) name ids
    /// Petrel never stored, and with sequential carrier ids some of them match another reading by chance.
    static func trustedReadings(
        examined: [String: Int],
        hits: [String: [CarrierID.Reading: [Int]]]
    ) -> [(channel: String, reading: CarrierID.Reading, indexes: [Int])] {
        hits.compactMap { channel, byReading in
            guard byReading.count == 1, let (reading, indexes) = byReading.first,
                indexes.count * 2 >= examined[channel, default: 0]
            else { return nil }
            return (channel, reading, indexes)
        }
    }
}
