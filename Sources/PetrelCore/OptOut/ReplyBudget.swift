/// How many opt-out confirmations (`optOut.reply`, `startReply`) go out. Each is a message the account pays for, and
/// whoever can make a carrier deliver can send STOP and START from many numbers, or toggle one number all day: at
/// most `perPhone` confirmations to one phone of an account in a rolling day, and at most `perAccount` for one
/// account in a rolling hour. The phones remembered are bounded (`maxPhones`); when they are all within their day
/// the budget fails closed (no confirmation) rather than forgetting one early.
public struct ReplyBudget: Sendable {
    public static let day: Int64 = 86_400_000
    public static let hour: Int64 = 3_600_000

    public let perPhone: Int
    public let perAccount: Int
    public let maxPhones: Int
    /// Per account and phone, the times of its confirmations within the last day (at most `perPhone`).
    private var phones: [String: [String: [Int64]]] = [:]
    private var phoneCount = 0
    /// Per account, the times of its confirmations within the last hour (at most `perAccount`).
    private var accounts: [String: [Int64]] = [:]

    public init(perPhone: Int, perAccount: Int, maxPhones: Int = 100_000) {
        self.perPhone = max(0, perPhone)
        self.perAccount = max(0, perAccount)
        self.maxPhones = max(1, maxPhones)
    }

    /// Why a confirmation may not go now, or nil (it is then counted).
    public enum Refusal: Sendable, Equatable {
        case phone
        case account
        case full
    }

    public mutating func take(account: String, phone: String, nowMs: Int64) -> Refusal? {
        let hourly = (accounts[account] ?? []).filter { $0 > nowMs - Self.hour }
        accounts[account] = hourly
        guard hourly.count < perAccount else { return .account }
        let daily = (phones[account]?[phone] ?? []).filter { $0 > nowMs - Self.day }
        guard daily.count < perPhone else { return .phone }
        if daily.isEmpty, phones[account]?[phone] == nil {
            if phoneCount >= maxPhones { forgetPast(nowMs) }
            guard phoneCount < maxPhones else { return .full }
            phoneCount += 1
        }
        phones[account, default: [:]][phone] = daily + [nowMs]
        accounts[account] = hourly + [nowMs]
        return nil
    }

    /// Forgets the phones whose last confirmation is more than a day old.
    private mutating func forgetPast(_ nowMs: Int64) {
        for (account, byPhone) in phones {
            let kept = byPhone.filter { ($0.value.last ?? 0) > nowMs - Self.day }
            phoneCount -= byPhone.count - kept.count
            phones[account] = kept.isEmpty ? nil : kept
        }
    }
}
