public import PetrelCore

/// `limits.pumpingGuard`'s counters and halts. Sends are counted by `SendLimitLog.commit` (in the accept's
/// transaction, only for an account whose guard covers the message's Type) and conversions as a SmsConversion
/// report is stored (`ConversionRecord.pumping`), per account, country, Type and bucket; a background watch sums
/// them over the window and halts; the accept path reads the halts from memory (`PumpingHaltBoard`).
public protocol PumpingGuardLog: Sendable {
    /// Sends and conversions of `type` per account and country in buckets starting at or after `sinceMs` (and at
    /// or after the pair's last lift), for the pairs not halted now.
    func pumpingCounts(type: MessageType, sinceMs: Int64) async throws -> [PumpingCount]
    /// Records `halt` unless the pair is halted already or was lifted since the counts were read (its last lift
    /// is not `countedFromMs`): true when this call made the halt (once, however many nodes try at once).
    func haltPumping(_ halt: PumpingHalt, countedFromMs: Int64?) async throws -> Bool
    /// The halts in force (of one account, or of all when nil), by account and country.
    func pumpingHalts(account: String?) async throws -> [PumpingHalt]
    /// Lifts the halts in force of `account` (in `country`, or in every country when nil) at `nowMs`: the pair
    /// counts again from then. Returns the halts lifted.
    func liftPumpingHalts(account: String, country: String?, nowMs: Int64) async throws -> [PumpingHalt]
}
