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
        var kept: [Row] = []
        kept.reserveCapacity(valid.count)
        for row in valid {
            func reject(_ refusal: ResponseCode) {
                invalid.append(
                    Invalid(
                        line: row.line,
                        number: row.to,
                        reason: "\(refusal.code): \(refusal.description)",
                        fields: row.fields
                    )
                )
                renderedBytes -= template.render(row.fields).utf8.count
            }
            if let refusal = limits.perNumber.refusal(
                to: row.to,
                type: type,
                recent: recent[row.to, default: []],
                nowMs: atMs
            ) {
                reject(refusal)
                continue
            }
            let counters = limits.caps.counters(to: row.to, atMs: atMs)
            if let refusal = SendCaps.refusal(counters, parts: row.segments, used: used) {
                reject(refusal)
                continue
            }
            for c in counters { used[c.key, default: 0] += row.segments }
            kept.append(row)
        }
        guard kept.count < valid.count else { return }
        valid = kept
        invalid.sort { $0.line < $1.line }
    }
}
