import PetrelCore
import PetrelStore

/// Which signatures a send may use: an account that registered signs (AddSmsSign, `petrel signs add`) sends under
/// its approved ones only; one that registered none sends under any, as before signs were kept. Each name of a
/// request is looked up once.
struct SignGate {
    private var seen: [String: String?] = [:]

    /// Why `name` may not be used, nil when it may.
    mutating func problem(_ name: String, _ call: ActionCall) async throws -> String? {
        if let known = seen[name] { return known }
        let why: String? =
            switch try await call.env.store.signUse(account: call.account, name: name) {
            case .anySign: nil
            case .unknown: "The account has no sign named \(name)."
            case .registered(let audit): audit == .approved ? nil : Self.notApproved("sign \(name)", audit)
            }
        seen[name] = why
        return why
    }

    static func notApproved(_ what: String, _ audit: AuditState) -> String {
        audit == .pending ? "The \(what) is waiting for approval." : "The \(what) was rejected."
    }
}
