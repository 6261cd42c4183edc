/// How a message's outcome reads to a customer; QueryMessage and pushed receipts use the same words so that
/// they always agree.
extension Message {
    /// `ErrorCode` and `ErrorDescription`: DELIVERED/success, the carrier's or Petrel's code for a failure, and
    /// empty while the message is on its way.
    public var outcomeFields: (code: String, description: String) {
        switch status {
        case .delivered: return ("DELIVERED", "success")
        case .failed, .expired: return (errorCode.isEmpty ? status.name.uppercased() : errorCode, errorDescription)
        case .queued, .submitting, .sent: return ("", "")
        }
    }

    /// `Status` of a delivery receipt (SmsReport): "1" delivered, "2" failed, "6" expired; nil before a final state.
    public var receiptStatus: String? {
        switch status {
        case .delivered: return "1"
        case .failed: return "2"
        case .expired: return "6"
        case .queued, .submitting, .sent: return nil
        }
    }
}
