import PetrelCore
import PetrelDelivery
import PetrelStore

extension ServerConfiguration {
    /// `inbound:`: a mapping (`numbers`, `replyWindowDays`, `partWaitSeconds`, `maxPendingParts`,
    /// `duplicateWindowSeconds`, `keepDays`), or just the list of numbers.
    static func readInbound(_ root: ConfigNode) throws -> InboundProcessor.Configuration {
        var c = InboundProcessor.Configuration()
        let numbers: [ConfigNode]
        if root.isList("inbound") {
            numbers = try root.list("inbound")
        } else {
            let node = try root.child("inbound")
            numbers = try node.list("numbers")
            c.rules.replyWindowMs = Int64(try node.int("replyWindowDays", default: 7, range: 0...3650)) * 86_400_000
            c.partWaitMs = Int64(try node.int("partWaitSeconds", default: 60, range: 1...86_400)) * 1000
            c.rules.maxPendingParts = try node.int("maxPendingParts", default: 10_000, range: 1...10_000_000)
            c.keepMs = Int64(try node.int("keepDays", default: 30, range: 1...36_500)) * 86_400_000
            c.rules.duplicateWindowMs =
                Int64(try node.int("duplicateWindowSeconds", default: 300, range: 0...86_400)) * 1000
        }
        for n in numbers {
            let number = try n.string("number") ?? ""
            let digits = number.hasPrefix("+") ? String(number.dropFirst()) : number
            guard !digits.isEmpty, digits.count <= 21, digits.allSatisfy({ $0.isASCII && ($0.isNumber || $0.isLetter) })
            else {
                throw ConfigNode.Failure(
                    description:
                        "\(n.key("number")) must be a number or its first digits (a short code, a prefix), got \(number)"
                )
            }
            let account = try n.string("account") ?? ""
            guard isPlainIdentifier(account, maxLength: 64) else {
                throw ConfigNode.Failure(
                    description: "\(n.key("account")) must be 1 to 64 printable ASCII characters without spaces"
                )
            }
            c.routes.append((digits, account))
        }
        return c
    }
}
