import Synchronization

/// Message ids: decimal strings of a 63-bit number, like Alibaba's, that sort by acceptance time.
///
/// Layout: milliseconds since 2020-01-01 (43 bits) | node (8 bits) | sequence (12 bits). When a millisecond's
/// 4,096 ids are used up the generator borrows from the next millisecond, so ids stay unique and increasing
/// under any load; `floor` makes a restarted node continue above the ids it handed out before.
public final class MessageIDGenerator: Sendable {
    public static let epochMs: Int64 = 1_577_836_800_000
    static let sequenceBits: Int64 = 12
    static let nodeBits: Int64 = 8

    private struct State {
        var lastMs: Int64
        var sequence: Int64
    }

    private let node: Int64
    private let state: Mutex<State>

    public init(node: Int = 0, floor: Int64 = 0) {
        precondition(node >= 0 && node < 256, "node id must be in 0..<256")
        self.node = Int64(node)
        let lastMs = floor >> (Self.sequenceBits + Self.nodeBits)
        self.state = Mutex(State(lastMs: lastMs, sequence: (1 << Self.sequenceBits) - 1))
    }

    /// Reserves `count` consecutive ids.
    public func next(_ count: Int = 1, nowMs: Int64) -> [Int64] {
        state.withLock { s in
            var ids: [Int64] = []
            ids.reserveCapacity(count)
            let ms = max(nowMs - Self.epochMs, 0)
            if ms > s.lastMs {
                s.lastMs = ms
                s.sequence = -1
            }
            for _ in 0..<count {
                s.sequence += 1
                if s.sequence >= (1 << Self.sequenceBits) {
                    s.lastMs += 1
                    s.sequence = 0
                }
                ids.append((s.lastMs << (Self.sequenceBits + Self.nodeBits)) | (node << Self.sequenceBits) | s.sequence)
            }
            return ids
        }
    }

    /// The smallest id a message accepted at `ms` (Unix milliseconds) can have: time ranges become id ranges.
    /// Times outside what an id can hold (before 2020, after 2298) are clamped, so it never decreases as `ms`
    /// grows: a shift past the 43 bits would wrap into other times' ids, or below zero.
    public static func firstId(atMs ms: Int64) -> Int64 {
        let (since, overflow) = ms.subtractingReportingOverflow(epochMs)
        let clamped = overflow ? (ms < 0 ? 0 : maxMs) : min(max(since, 0), maxMs)
        return clamped << (sequenceBits + nodeBits)
    }

    /// The last millisecond since `epochMs` an id can hold.
    static let maxMs: Int64 = (1 << (63 - sequenceBits - nodeBits)) - 1

    /// Acceptance time encoded in an id, in Unix milliseconds.
    public static func timestampMs(of id: Int64) -> Int64 {
        (id >> (sequenceBits + nodeBits)) + epochMs
    }
}
