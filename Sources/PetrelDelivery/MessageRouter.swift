public import PetrelCore

/// Picks the channels a message may take, in order of preference.
public struct MessageRouter: Sendable {
    public struct Route: Sendable, Equatable {
        public var prefixes: [String]
        public var countries: [String]  // ISO region codes (SG, HK)
        public var types: [MessageType]
        public var channelIds: [String]  // the client's ChannelId values this route matches; empty = any
        public var channels: [String]

        public init(
            prefixes: [String] = [],
            countries: [String] = [],
            types: [MessageType] = [],
            channelIds: [String] = [],
            channels: [String]
        ) {
            self.prefixes = prefixes
            self.countries = countries
            self.types = types
            self.channelIds = channelIds
            self.channels = channels
        }

        func matches(_ m: Message) -> Bool {
            (prefixes.isEmpty || prefixes.contains { m.to.hasPrefix($0) })
                && (types.isEmpty || types.contains(m.type))
                && (channelIds.isEmpty || channelIds.contains(m.requestedChannel))
                && (countries.isEmpty || countries.contains((try? PhoneNumber.parse(m.to).get())?.region ?? ""))
        }
    }

    public var routes: [Route]

    /// Without configuration everything goes to the sandbox.
    public init(routes: [Route] = [Route(channels: ["sandbox"])]) {
        self.routes = routes
    }

    /// A ChannelId naming a channel sends there; otherwise the first matching route decides.
    public func channels(for m: Message) -> [String] {
        if !m.requestedChannel.isEmpty, !routes.contains(where: { $0.channelIds.contains(m.requestedChannel) }) {
            return [m.requestedChannel]
        }
        return routes.first { $0.matches(m) }?.channels ?? []
    }
}
