extension CampaignPlan {
    /// Moves the valid rows whose number opted out of the account's messages of `type` to the invalid ones, with
    /// the refusal as the reason (the store's answer were they sent).
    public mutating func refuseOptedOut(account: String, type: MessageType, board: OptOutBoard) {
        var kept: [Row] = []
        kept.reserveCapacity(valid.count)
        for row in valid {
            guard let refusal = board.refusal(account: account, phone: row.to, type: type) else {
                kept.append(row)
                continue
            }
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
        guard kept.count < valid.count else { return }
        valid = kept
        invalid.sort { $0.line < $1.line }
    }
}
