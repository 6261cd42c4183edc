extension CampaignPlan {
    /// Moves the valid rows whose number opted out of the account's messages of `type` to the invalid ones, with
    /// the refusal as the reason (the store's answer were they sent).
    public mutating func refuseOptedOut(account: String, type: MessageType, board: OptOutBoard) {
        refuseRows { row in board.refusal(account: account, phone: row.to, type: type) }
    }

    /// Moves each valid row for which `refusal` (asked in file order) gives a refusal to the invalid ones, with the
    /// refusal as the reason.
    mutating func refuseRows(_ refusal: (Row) -> ResponseCode?) {
        var kept: [Row] = []
        kept.reserveCapacity(valid.count)
        for row in valid {
            guard let refused = refusal(row) else {
                kept.append(row)
                continue
            }
            invalid.append(
                Invalid(
                    line: row.line,
                    number: row.to,
                    reason: "\(refused.code): \(refused.description)",
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
