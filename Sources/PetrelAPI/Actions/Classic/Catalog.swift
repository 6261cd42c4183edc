import PetrelCore
import PetrelStore

/// The template and signs a send needs, gathered before it runs: from this node's memory on the calling thread
/// (`cached`, nil when any answer is not there) or from the store (`read`). The send itself then decides without
/// waiting, so a send whose answers are in memory runs on the event loop as SendMessageToGlobe does.
///
/// Which signatures a send may use: an account that registered signs (AddSmsSign, `petrel signs add`) sends under
/// its approved ones only; one that registered none sends under any, as before signs were kept.
struct Catalog {
    let template: TemplateRecord?
    private let signs: [ByteKey: SignUse]

    /// A sign the send asks about that was not gathered: a mistake in the action, never the client's.
    struct NotGathered: Error, CustomStringConvertible {
        let name: String
        var description: String { "the sign \(name) was not read before the send" }
    }

    /// From memory; nil when the template or any sign is not there (the send then goes the task's way, `read`).
    static func cached(_ call: ActionCall, template code: String?, signs names: [String]) -> Catalog? {
        let store = call.env.store
        var template: TemplateRecord?
        if let code {
            guard let t = store.cachedTemplate(account: call.account, code: code) else { return nil }
            template = t
        }
        var signs: [ByteKey: SignUse] = [:]
        for name in names where signs[ByteKey(name)] == nil {
            guard let use = store.cachedSignUse(account: call.account, name: name) else { return nil }
            signs[ByteKey(name)] = use
        }
        return Catalog(template: template, signs: signs)
    }

    /// From the store, each name once.
    static func read(_ call: ActionCall, template code: String?, signs names: [String]) async throws -> Catalog {
        let store = call.env.store
        let template = try await code.asyncMap { try await store.template(account: call.account, code: $0) }
        var signs: [ByteKey: SignUse] = [:]
        for name in names where signs[ByteKey(name)] == nil {
            signs[ByteKey(name)] = try await store.signUse(account: call.account, name: name)
        }
        return Catalog(template: template ?? nil, signs: signs)
    }

    /// Why `name` may not be used, nil when it may.
    func problem(_ name: String) throws -> String? {
        guard let use = signs[ByteKey(name)] else { throw NotGathered(name: name) }
        switch use {
        case .anySign: return nil
        case .unknown: return "The account has no sign named \(name)."
        case .registered(let audit): return audit == .approved ? nil : Self.notApproved("sign \(name)", audit)
        }
    }

    static func notApproved(_ what: String, _ audit: AuditState) -> String {
        audit == .pending ? "The \(what) is waiting for approval." : "The \(what) was rejected."
    }
}

extension Optional {
    fileprivate func asyncMap<T>(_ transform: (Wrapped) async throws -> T) async rethrows -> T? {
        guard let self else { return nil }
        return try await transform(self)
    }
}
