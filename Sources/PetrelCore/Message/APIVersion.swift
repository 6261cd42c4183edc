/// The Alibaba API a message was sent through: its queries and receipts speak the same version.
public enum APIVersion: Int, Sendable, Codable, CaseIterable {
    /// dysmsapi 2018-05-01, the international API (SendMessageToGlobe and the rest).
    case intl = 0
    /// dysmsapi 2017-05-25 (SendSms, SendBatchSms, QuerySendDetails …).
    case classic = 1

    /// The `Version` parameter / `x-acs-version` header that names it.
    public var name: String {
        switch self {
        case .intl: return "2018-05-01"
        case .classic: return "2017-05-25"
        }
    }

    public init?(name: String) {
        switch name {
        case "2018-05-01": self = .intl
        case "2017-05-25": self = .classic
        default: return nil
        }
    }
}
