/// What `petrel smsc` does with a submit_sm, picked by the last digits of its destination, in the spirit of
/// the Melrose Labs simulator. Pure, so the table is tested on its own.
public enum SMSCBehaviour: Sendable, Equatable {
    /// Accept, then send a receipt with this final state after the configured delay.
    case accept(receipt: DeliveryReceipt.State)
    /// Answer with an error status.
    case reject(CommandStatus)
    /// Never answer.
    case silence

    public static let table: [(ending: String, behaviour: SMSCBehaviour, meaning: String)] = [
        ("901", .reject(.throttled), "ESME_RTHROTTLED (throttling)"),
        ("902", .reject(.messageQueueFull), "ESME_RMSGQFUL (queue full)"),
        ("903", .silence, "no submit_sm_resp at all"),
        ("904", .reject(.invalidDestinationAddress), "ESME_RINVDSTADR (permanent routing error)"),
        ("905", .reject(.systemError), "ESME_RSYSERR (temporary error)"),
        ("666", .accept(receipt: .undeliverable), "accepted, then receipt stat:UNDELIV"),
        ("777", .accept(receipt: .expired), "accepted, then receipt stat:EXPIRED"),
        ("888", .accept(receipt: .rejected), "accepted, then receipt stat:REJECTD"),
    ]

    public static func forDestination(_ address: String) -> SMSCBehaviour {
        for row in table where address.hasSuffix(row.ending) { return row.behaviour }
        return .accept(receipt: .delivered)
    }
}
