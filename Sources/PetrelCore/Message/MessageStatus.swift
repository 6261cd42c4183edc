/// Where a message is in its life. The raw values are stored, and the stores' SQL (queries, indexes, triggers,
/// migrations) is generated from them (`MessageStatus.sql`, `finalList`, `finalFloor` in PetrelStore): never
/// renumber a case, since migrations already applied and rows already written keep the old numbers. The order of
/// the raw values is the order of progress, and the final states are exactly those from `delivered` up (the SQLite
/// receipt trigger tests `status >= finalFloor`; a PetrelStore test holds this).
///
///     queued ──▶ submitting ──▶ sent ──▶ delivered
///       │            │  ▲         ├────▶ failed
///       │            ▼  │         └────▶ expired
///       │          queued (retry, or a lease lost in a crash)
///       └──────────────────────────────▶ expired / failed
public enum MessageStatus: Int, Sendable, Codable, CaseIterable {
    case queued = 0  // accepted, durable, waiting for a channel
    case submitting = 1  // claimed by a dispatcher, being handed to a channel
    case sent = 2  // the carrier accepted it; waiting for its delivery receipt
    case delivered = 3
    case failed = 4
    case expired = 5

    public var isFinal: Bool { self == .delivered || self == .failed || self == .expired }

    /// Whether moving from `self` to `next` is allowed. Final states never change; nothing goes back to queued
    /// once the carrier has it, and a receipt may arrive before the submit's response was recorded.
    public func canMove(to next: MessageStatus) -> Bool {
        switch (self, next) {
        case (.queued, .submitting), (.queued, .expired), (.queued, .failed): return true
        case (.submitting, .queued), (.submitting, .sent): return true
        case (.submitting, _) where next.isFinal: return true
        case (.sent, _) where next.isFinal: return true
        default: return false
        }
    }

    /// The `Status` of QueryMessage: "1" delivered, "2" failed or expired, "3" still sending.
    public var queryStatus: String {
        switch self {
        case .delivered: return "1"
        case .failed, .expired: return "2"
        case .queued, .submitting, .sent: return "3"
        }
    }

    /// The `Status` of a delivery receipt: "1" delivered, "2" failed, "6" expired; nil before a final state.
    public var receiptStatus: String? {
        switch self {
        case .delivered: return "1"
        case .failed: return "2"
        case .expired: return "6"
        default: return nil
        }
    }

    public var name: String {
        switch self {
        case .queued: return "queued"
        case .submitting: return "submitting"
        case .sent: return "sent"
        case .delivered: return "delivered"
        case .failed: return "failed"
        case .expired: return "expired"
        }
    }
}
