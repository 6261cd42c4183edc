/// The dysmsapi 2017-05-25 operations Petrel serves.
enum ClassicActions {
    static let all: [any RPCAction] = [SendSms(), QuerySendDetails()]
}
