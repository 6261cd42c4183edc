import Foundation
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import PetrelAPI
import PetrelCore
import PetrelDelivery
import PetrelSMPP
import PetrelStore
import ServiceLifecycle
import UnixSignals

/// `petrel serve`: wires the store, the RPC gateway, the dispatcher and the HTTP server, and runs them until
/// SIGTERM or SIGINT.
public enum PetrelServer {
    public static func now() -> Int64 { Int64((Date().timeIntervalSince1970 * 1000).rounded(.down)) }

    public static func run(
        configuration c: ServerConfiguration,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) async throws {
        var logger = Logger(label: "petrel")
        logger.logLevel = Logger.Level(rawValue: c.logLevel) ?? .info

        // One server per data directory, also on a shared store (where the directory names the node).
        let lock = try DataDirectory.lockForServing(path: c.dataDir)
        defer { close(lock) }
        let store = try await DataDirectory.openStore(
            path: c.dataDir,
            storeURL: c.store,
            environment: environment,
            trackedSends: c.limits.trackedSends
        )
        // The address file is written once listening; gone with the server (a crash leaves it: see ServerAddressFile).
        defer { ServerAddressFile.remove(dataDir: c.dataDir) }
        do {
            try await serve(c, store: store, environment: environment, logger: logger)
        } catch {
            try? await store.close()
            throw error
        }
        try await store.close()
    }

    static func serve(
        _ c: ServerConfiguration,
        store: any MessageStore,
        environment: [String: String],
        logger: Logger
    ) async throws {
        let clock: @Sendable () -> Int64 = { PetrelServer.now() }
        let created = try await AccessKeys.bootstrap(store: store, environment: environment, nowMs: clock())
        if let key = created {
            // Printed once, on the terminal of whoever started the first server; never logged.
            print("Created access key (shown once, keep the secret safe):")
            print(#"{"AccessKeyId":"\#(key.id)","AccessKeySecret":"\#(key.secret)"}"#)
        }
        let signIn =
            if created != nil {
                "sign in with the AccessKeyId and AccessKeySecret printed above"
            } else if !(environment["PETREL_ACCESS_KEY_ID"] ?? "").isEmpty {
                "sign in with PETREL_ACCESS_KEY_ID and PETREL_ACCESS_KEY_SECRET"
            } else {
                "sign in with an access key; `petrel keys create --name NAME` makes one"
            }

        ServerMetrics.bootstrap
        try await Accounts.apply(c.accounts, store: store, nowMs: clock())
        let nonces = NonceGuard()
        nonces.warm(try await store.liveNonces(nowMs: clock()))
        let dataPath = URL(fileURLWithPath: c.dataDir).standardizedFileURL.path
        let nodeName = c.nodeName ?? "\(ProcessInfo.processInfo.hostName):\(dataPath)"
        let node = try await store.registerNode(name: nodeName, nowMs: clock(), staleMs: Housekeeping.nodeStaleMs)
        if c.store != nil {
            logger.info("joined the shared store", metadata: ["node": "\(node)", "name": "\(nodeName)"])
        }
        let ids = MessageIDGenerator(node: node, floor: try await store.maxMessageId())

        let wake = WakeSignal()
        let receipts = ReceiptProcessor(store: store, logger: logger, clock: clock)
        let inbound = InboundProcessor(store: store, configuration: c.inbound, logger: logger, clock: clock)
        let sandbox = SandboxChannel(configuration: c.sandbox)
        let carriers = c.smppChannels.map {
            SMPPChannel(
                configuration: $0,
                receipts: receipts,
                inbound: inbound,
                logger: logger,
                clock: clock,
                onCapacity: { wake.signal() }
            )
        }
        let webCarriers = c.httpChannels.map {
            HTTPCarrierChannel(configuration: $0, logger: logger, clock: clock, onCapacity: { wake.signal() })
        }
        let dispatcher = Dispatcher(
            store: store,
            channels: [sandbox] + carriers + webCarriers,
            router: MessageRouter(routes: c.routes),
            configuration: c.dispatcher,
            wake: wake,
            logger: logger,
            clock: clock
        )
        receipts.waitBeforeApplying { await dispatcher.waitForRecords(of: $0) }
        let channelIds = Set([sandbox.id] + carriers.map(\.id) + webCarriers.map(\.id))
        // Swapped whole on SIGHUP (LimitsReload); trapped from here on, so a hang-up never ends the server.
        let sendLimits = LimitsHolder(c)
        // What the store keeps in memory for limits.perNumber is read now, not by the first limited accept.
        if c.accounts.contains(where: { sendLimits.limits(account: $0.name) != nil }) {
            try await store.loadSendCounts(nowMs: clock())
        }
        let hangups = await UnixSignalsSequence(trapping: .sighup)
        let halts = PumpingHaltBoard()
        let optOut = OptOutBoard()
        optOut.configure(appliesTo: c.optOut.appliesTo, accounts: c.optOut.accountsAppliesTo)
        let env = APIEnvironment(
            store: store,
            ids: ids,
            channels: { channelIds },
            dateOffsetSeconds: c.dateOffsetSeconds,
            defaultValidityMs: c.defaultValiditySeconds > 0 ? c.defaultValiditySeconds * 1000 : nil,
            maxTextLength: c.maxTextLength,
            onAccepted: { count in
                ServerMetrics.accepted(count)
                dispatcher.notify()
            },
            limits: { sendLimits.limits(account: $0) },
            halts: halts,
            optOut: optOut,
            signs: c.signs
        )
        let throttle = Throttle(limits: c.throttling)
        let gateway = Gateway(
            env: env,
            nonces: nonces,
            throttle: throttle,
            hostId: c.hostId,
            timestampWindowSeconds: c.timestampWindowSeconds,
            maxParameters: c.maxParameters,
            clock: clock
        )

        // The suppression lists before the first request; then every half second, and at once for this node's own.
        let optOutWatch = OptOutWatch(store: store, board: optOut, logger: logger, clock: clock)
        try await optOutWatch.reload()
        let replies = OptOutReplies(configuration: c.optOut, gateway: gateway, logger: logger, clock: clock)
        inbound.onOptOut { changes in
            gateway.run {
                do {
                    try await optOut.catchUp(from: store)
                } catch {
                    logger.storeFailure("cannot read the suppression lists", error)
                }
                await replies.send(changes)
            }
        }

        let router = Router(context: PetrelRequestContext.self)
        let routes = HTTPRoutes(gateway: gateway, configuration: c, logger: logger)
        routes.register(on: router)
        if c.dispatcherEnabled {
            // Receipts are applied by this node's ReceiptProcessor, which runs where the dispatcher does.
            CarrierReceiptRoutes(
                channels: c.httpChannels.reduce(into: [:]) { $0[$1.id] = $1.receipts },
                receipts: receipts,
                logger: logger,
                clock: clock
            ).register(on: router)
        }
        // One sign-in throttle for the console and the sandbox routes, so neither is a guessing oracle for the other.
        let keyAuth = KeyAuth(
            store: store,
            sessions: ConsoleSessions(idleMs: Int64(c.consoleSessionIdleSeconds) * 1000),
            throttle: SignInThrottle(),
            clock: clock
        )
        SandboxRoutes(store: store, auth: keyAuth, mode: c.sandboxRetrospection, inbound: inbound).register(on: router)
        let campaignWake = WakeSignal()
        let smppWatch = c.smppServer.map(SMPPServerWatch.init)
        let pushLog = PushLog(store: store, node: nodeName, capacity: c.pushLogEntries, logger: logger)
        if c.consoleEnabled {
            let channelStates: @Sendable () async -> [ChannelState] = {
                await ChannelState.all(sandbox: sandbox, carriers: carriers, webCarriers: webCarriers)
            }
            Console(
                store: store,
                gateway: gateway,
                auth: keyAuth,
                channels: channelStates,
                campaignWake: campaignWake,
                maxUploadBytes: c.consoleMaxUploadBytes,
                secureCookies: c.consoleSecureCookies,
                campaignMaxBytes: c.campaignMaxBytes,
                campaignMaxBytesPerAccount: c.campaignMaxBytesPerAccount,
                clock: clock,
                waitReason: { [dispatcherEnabled = c.dispatcherEnabled] m, now in
                    dispatcherEnabled ? dispatcher.waitReason(for: m, nowMs: now) : nil
                },
                inbound: inbound,
                optOutMaxPhones: c.optOut.maxPhones,
                dateOffsetSeconds: c.dateOffsetSeconds,
                smppServer: smppWatch,
                pushLog: pushLog,
                push: c.receipts
            ).register(on: router)
        }
        // Slow or oversized clients: the door (HTTPDoor) enforces the head, body and idle deadlines on every route and
        // caps open connections; headers beyond maxHeaderBytes (or 100 fields) are refused by the HTTP decoder.
        let limits = {
            var l = NIOHTTPDecoderLimitConfiguration()
            l.maxHeaderFieldSize = c.maxHeaderBytes
            l.maxHeaderListSize = c.maxHeaderBytes
            l.maxHeaderFieldCount = 100
            return l
        }()
        let door = HTTPConnectionStateMachine.Configuration(
            maxHead: min(256 * 1024, c.maxHeaderBytes),
            maxBody: c.maxBodyBytes,
            headTimeout: .seconds(Int64(c.headTimeoutSeconds)),
            bodyTimeout: .seconds(Int64(c.bodyTimeoutSeconds)),
            idleTimeout: .seconds(Int64(c.idleTimeoutSeconds))
        )
        let gauge = ConnectionGauge(limit: ConnectionLimit.effective(c.maxConnections, logger: logger)) {
            Gateway.errorResponse(
                .serviceUnavailable,
                requestId: RequestID.make(),
                hostId: c.hostId,
                format: .json,
                action: ""
            )
        }
        let server = HTTPServerBuilder { responder in
            PetrelHTTP1Channel(responder: responder, decoderLimits: limits) {
                HTTPDoor(
                    configuration: door,
                    gauge: gauge,
                    serve: { routes.handle($0, answer: $1) },
                    bodyTooLarge: { routes.bodyTooLarge() }
                )
            }
        }
        var app = Application(
            router: router,
            server: server,
            configuration: .init(address: .hostname(c.host, port: c.port), serverName: "Petrel"),
            onServerRunning: { channel in
                // Accept failures (out of descriptors) are logged; NIO's own handler behind this one backs off.
                try? await channel.eventLoop.submit {
                    try channel.pipeline.syncOperations.addHandler(AcceptErrorLogger(logger: logger), position: .first)
                }.get()
                let port = channel.localAddress?.port ?? c.port
                let host = c.host.contains(":") ? "[\(c.host)]" : c.host
                print("Petrel listening on http://\(host):\(port) (data in \(c.dataDir))")
                // A browser or a command cannot open the wildcard address: they get the loopback one instead.
                let local = ServerAddressFile.url(host: c.host, port: port)
                do {
                    try ServerAddressFile.write(url: local, dataDir: c.dataDir)
                } catch {
                    logger.warning("\(error); `petrel campaign send` will need --server")
                }
                if c.consoleEnabled { print("Console: \(local)/console (\(signIn))") }
                fflush(nil)
            },
            logger: logger
        )
        if c.dispatcherEnabled {
            for carrier in carriers { carrier.start() }
            app.addServices(
                dispatcher,
                receipts,
                ReceiptPusher(store: store, configuration: c.receipts, logger: logger, clock: clock, log: pushLog),
                OutboxPusher(
                    feed: InboundFeed(store: store),
                    configuration: c.receipts,
                    logger: logger,
                    clock: clock,
                    log: pushLog
                )
            )
        }
        app.addServices(
            // Stores what carriers and the sandbox deliver, on every node (an accept-only node's sandbox too).
            inbound,
            // Writes the pushes this node made (and its test receipts) to the shared push log.
            pushLog,
            CampaignRunner(
                store: store,
                gateway: gateway,
                wake: campaignWake,
                chunk: c.campaignChunk,
                logger: logger,
                clock: clock
            ),
            Housekeeping(
                store: store,
                throttle: throttle,
                carriers: carriers,
                webCarriers: webCarriers,
                logger: logger,
                clock: clock
            ),
            Purging(store: store, configuration: c.retention, logger: logger, clock: clock),
            StatsFolding(store: store, everyMs: StatsFolding.defaultEveryMs, logger: logger),
            MetricsSampler(
                store: store,
                carriers: carriers,
                webCarriers: webCarriers,
                receipts: receipts,
                logger: logger,
                smppServer: c.smppServer != nil
            )
        )
        app.addServices(
            optOutWatch,
            CapWatch(store: store, caps: { sendLimits.caps }, logger: logger, clock: clock),
            LimitsReload(
                reloader: LimitsReloader(path: c.configPath, holder: sendLimits, logger: logger),
                hangups: hangups
            )
        )
        if !c.pumpingGuards.isEmpty {
            // The halts in force before the first request (a restart while halted stays halted from the start).
            halts.replace(try await store.pumpingHalts(account: nil))
        }
        // Always watching: a reload may add a guard (the watch reads nothing while there is none).
        app.addServices(
            PumpingWatch(
                store: store,
                board: halts,
                guards: { sendLimits.guards },
                limits: env.limits,
                logger: logger,
                clock: clock,
                everyMs: c.limits.pumpingGuardEveryMs
            )
        )
        let smpp = try await startSMPPServer(
            c,
            watch: smppWatch,
            store: store,
            gateway: gateway,
            logger: logger,
            clock: clock
        )
        do {
            try await app.runService()
        } catch {
            await smpp?.stop()
            await gateway.shutdown()
            for carrier in webCarriers { await carrier.shutdown() }
            throw error
        }
        await smpp?.stop()
        await gateway.shutdown()
        // The dispatcher shut them down as it stopped; again here for a node that does not dispatch (a no-op).
        for carrier in webCarriers { await carrier.shutdown() }
    }
}
