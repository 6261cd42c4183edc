/// The nodes sharing one store: their numbers, heartbeats and the carrier bind slots each holds.
public protocol NodeRegistry: Sendable {
    /// Takes this process's node number (0..<256, the node field of its message ids) under `name`: the number it
    /// had before when the name is known, else one whose heartbeat stopped `staleMs` ago, else a new one. A store
    /// only one process uses (SQLite) answers 0.
    func registerNode(name: String, nowMs: Int64, staleMs: Int64) async throws -> Int
    /// Keeps this node's number taken; returns how many nodes (this one included) beat within `staleMs`, so
    /// limits meant for the whole system (throttles, channel TPS) can be divided among them.
    func heartbeat(nowMs: Int64, staleMs: Int64) async throws -> Int
    /// Takes or renews up to `want` of a channel's `total` bind slots for this node until `untilMs` (slots other
    /// nodes hold past `nowMs` are theirs); returns how many this node holds. Slots beyond `want` are given back.
    func leaseBindSlots(channel: String, want: Int, total: Int, nowMs: Int64, untilMs: Int64) async throws -> Int
    /// Gives back every bind slot this node holds (at shutdown).
    func releaseBindSlots() async throws
}
