/// The `Type` parameter: what a message is for, which also decides its queue priority.
public enum MessageType: String, Sendable, Codable, CaseIterable {
    case otp = "OTP"
    case notify = "NOTIFY"
    case mkt = "MKT"

    public init?(parameter: String) {
        self.init(rawValue: parameter.uppercased())
    }
}

/// Queue priority: lower goes first. Single sends and OTP before batch notifications, those before marketing.
public enum Priority: Int, Sendable, Codable, Comparable {
    case urgent = 0
    case normal = 1
    case bulk = 2

    public static func < (a: Priority, b: Priority) -> Bool { a.rawValue < b.rawValue }

    public init(type: MessageType, single: Bool) {
        switch type {
        case .otp: self = .urgent
        case .notify: self = single ? .urgent : .normal
        case .mkt: self = .bulk
        }
    }
}
