import PetrelCore
import PetrelDelivery
import PetrelSMPP

extension ServerConfiguration {
    static func readChannels(_ root: ConfigNode, into c: inout ServerConfiguration) throws {
        var ids: Set<String> = [SandboxChannel.channelId]
        for node in try root.list("channels") {
            let id = try node.string("id") ?? ""
            guard !id.isEmpty else { throw ConfigNode.Failure(description: "\(node.key("id")) is required") }
            guard ids.insert(id).inserted else {
                throw ConfigNode.Failure(
                    description: "\(node.key("id")): the channel id \(id) is used twice (sandbox is built in)"
                )
            }
            let type = try node.string("type") ?? ""
            if type == "http" {
                c.httpChannels.append(try readHTTPChannel(node, id: id))
                continue
            }
            guard type == "smpp" else {
                throw ConfigNode.Failure(description: "\(node.key("type")) must be smpp or http")
            }
            guard let host = try node.string("host"), !host.isEmpty else {
                throw ConfigNode.Failure(description: "\(node.key("host")) is required")
            }
            var ch = SMPPChannelConfiguration(
                id: id,
                host: host,
                port: try node.int("port", default: 2775, range: 1...65_535),
                systemID: try limited(node, "systemId", max: 15, required: true),
                password: try limited(node, "password", max: 8, required: false)
            )
            ch.systemType = try limited(node, "systemType", max: 12, required: false)
            let bind = try node.string("bind", default: "transceiver")
            guard let kind = SMPPChannelConfiguration.BindKind(rawValue: bind) else {
                throw ConfigNode.Failure(description: "\(node.key("bind")) must be transceiver or transmitter-receiver")
            }
            ch.bind = kind
            ch.sessions = try node.int("sessions", default: 1, range: 1...64)
            ch.maxBinds = try node.int("maxBinds", default: 0, range: 0...1024)
            ch.window = try node.int("window", default: 100, range: 1...10_000)
            ch.tps = try node.double("tps", default: 0, range: 0...1_000_000)
            ch.sourceTON = UInt8(try node.int("sourceTon", default: 5, range: 0...255))
            ch.sourceNPI = UInt8(try node.int("sourceNpi", default: 0, range: 0...255))
            ch.defaultSender = try limited(node, "defaultSender", max: 20, required: false)
            let long = try node.string("longMessages", default: "udh")
            guard let mode = LongMessageMode(rawValue: long) else {
                throw ConfigNode.Failure(description: "\(node.key("longMessages")) must be udh, sar or payload")
            }
            ch.longMessages = mode
            ch.enquireLinkIntervalMs = Int64(try node.int("enquireLinkInterval", default: 30, range: 1...3600)) * 1000
            ch.responseTimeoutMs = Int64(try node.int("responseTimeout", default: 10, range: 1...600)) * 1000
            ch.tls = try readTLS(node, serverName: true)
            if let country = try node.string("country") {
                guard NumberingPlan.shared.region(country.uppercased()) != nil else {
                    throw ConfigNode.Failure(
                        description:
                            "\(node.key("country")) must be a country code (ISO 3166 alpha-2, like HK), got \(country)"
                    )
                }
                ch.country = country.uppercased()
            }
            c.smppChannels.append(ch)
        }

        var routes: [MessageRouter.Route] = []
        for node in try root.list("routes") {
            let channels = try node.strings("channels")
            guard !channels.isEmpty else {
                throw ConfigNode.Failure(description: "\(node.key("channels")) must name at least one channel")
            }
            for ch in channels where !ids.contains(ch) {
                throw ConfigNode.Failure(
                    description: "\(node.key("channels")) names \(ch), which is not a configured channel"
                )
            }
            let match = try node.child("match")
            let prefixes = try match.strings("prefixes")
            for p in prefixes where p.isEmpty || !p.allSatisfy(\.isASCIIDigitCharacter) {
                throw ConfigNode.Failure(description: "\(match.key("prefixes")) must hold digits only, got \(p)")
            }
            var types: [MessageType] = []
            for t in try match.strings("types") {
                guard let type = MessageType(parameter: t) else {
                    throw ConfigNode.Failure(
                        description: "\(match.key("types")) must hold OTP, NOTIFY or MKT, got \(t)"
                    )
                }
                types.append(type)
            }
            let countries = try match.strings("countries").map { $0.uppercased() }
            for country in countries where NumberingPlan.shared.region(country) == nil {
                throw ConfigNode.Failure(
                    description: "\(match.key("countries")) holds \(country), which is not a region code (like SG)"
                )
            }
            routes.append(
                MessageRouter.Route(
                    prefixes: prefixes,
                    countries: countries,
                    types: types,
                    channelIds: try match.strings("channelIds"),
                    channels: channels
                )
            )
        }
        if !routes.isEmpty { c.routes = routes }
    }

    static func limited(_ node: ConfigNode, _ key: String, max: Int, required: Bool) throws -> String {
        let value = try node.string(key) ?? ""
        if required && value.isEmpty { throw ConfigNode.Failure(description: "\(node.key(key)) is required") }
        guard value.utf8.count <= max else {
            throw ConfigNode.Failure(description: "\(node.key(key)) must be at most \(max) characters")
        }
        return value
    }
}

extension Character {
    var isASCIIDigitCharacter: Bool { isASCII && isWholeNumber }
}
