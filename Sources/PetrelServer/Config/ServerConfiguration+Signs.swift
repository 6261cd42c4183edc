import PetrelAPI

extension ServerConfiguration {
    /// `api.approval` (`auto` or `manual`), `api.maxSignsPerAccount` and `api.maxTemplatesPerAccount`: who approves
    /// the signs and templates accounts make through dysmsapi 2017-05-25, and how many each may make.
    static func readSigns(_ api: ConfigNode) throws -> SignSettings {
        var s = SignSettings()
        switch try api.string("approval") ?? "auto" {
        case "auto": s.manualApproval = false
        case "manual": s.manualApproval = true
        case let other:
            throw ConfigNode.Failure(
                description: "\(api.key("approval")) must be auto or manual (the operator approves), got \(other)"
            )
        }
        s.maxSignsPerAccount = try api.int("maxSignsPerAccount", default: s.maxSignsPerAccount, range: 0...1_000_000)
        s.maxTemplatesPerAccount = try api.int(
            "maxTemplatesPerAccount",
            default: s.maxTemplatesPerAccount,
            range: 0...1_000_000
        )
        return s
    }
}
