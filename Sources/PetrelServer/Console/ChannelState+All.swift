import PetrelDelivery

extension ChannelState {
    /// Every channel's state for the console's channel list: the sandbox, SMPP and HTTP carriers.
    static func all(
        sandbox: SandboxChannel,
        carriers: [SMPPChannel],
        webCarriers: [HTTPCarrierChannel]
    ) async -> [ChannelState] {
        var states = [
            ChannelState(
                id: sandbox.id,
                kind: "sandbox",
                target: "built in",
                bound: 1,
                sessions: 1,
                inFlight: 0,
                window: 0,
                tps: 0
            )
        ]
        for carrier in carriers {
            let snap = await carrier.snapshot()
            let conf = carrier.configuration
            let h = await carrier.healthSnapshot()
            states.append(
                ChannelState(
                    id: carrier.id,
                    kind: "smpp",
                    target: "\(conf.host):\(conf.port) as \(conf.systemID)",
                    bound: snap.bound,
                    sessions: snap.sessions,
                    inFlight: snap.inFlight,
                    window: snap.window,
                    tps: conf.tps,
                    accepted: h.accepted,
                    refused: h.refused,
                    noResponse: h.noResponse,
                    connectFailures: h.connectFailures,
                    sessionsClosed: h.sessionsClosed,
                    lastError: h.lastError
                )
            )
        }
        for carrier in webCarriers {
            let snap = carrier.snapshot()
            let conf = carrier.configuration
            let h = carrier.healthSnapshot()
            // Bound: whether it takes messages (it is not down after failing to reach its provider).
            states.append(
                ChannelState(
                    id: carrier.id,
                    kind: "http",
                    target: "\(conf.method) \(carrier.target)",
                    bound: carrier.isAvailable ? 1 : 0,
                    sessions: 1,
                    inFlight: snap.inFlight,
                    window: conf.concurrency,
                    tps: conf.tps,
                    accepted: h.accepted,
                    refused: h.refused + h.rerouted,
                    noResponse: h.noResponse,
                    lastError: h.lastError
                )
            )
        }
        return states
    }
}
