extension CampaignPlan {
    /// Moves the valid rows that `limits` would refuse, were the campaign sent at `atMs`, to the invalid ones with
    /// the refusal as the reason: a number over `limits.perNumber` given the sends `recent` already counted for it
    /// (by number), and a row past a cap given the parts `used` already counted (the store's counters) and the
    /// rows before it. (`limits.countries` is checked by `build`.) What cannot be known before sending, sends
    /// counted meanwhile or a campaign that runs into the next window, is left to the store, which refuses such rows
    /// as their chunk is sent; they are counted failed.
    public mutating func applyLimits(
        _ limits: SendLimits,
        type: MessageType,
        atMs: Int64,
        used: [CapKey: Int],
        recent: [String: [LimitedSend]] = [:]
    ) {
        guard !limits.caps.isEmpty || !limits.perNumber.isEmpty else { return }
        var used = used
        refuseRows { row in
            if let refusal = limits.perNumber.refusal(
                to: row.to,
                type: type,
                recent: recent[row.to, default: []],
                nowMs: atMs
            ) {
                return refusal
            }
            let counters = limits.caps.counters(to: row.to, atMs: atMs)
            if let refusal = SendCaps.refusal(counters, parts: row.segments, used: used) { return refusal }
            // A kept row counts against the caps for the rows after it.
            for c in counters { used[c.key, default: 0] += row.segments }
            return nil
        }
    }
}
