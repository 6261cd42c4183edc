import Foundation
public import PetrelAPI
import PetrelCore
public import PetrelDelivery

/// Everything `petrel serve` can be told, with its defaults. docs/configuration.md describes each key.
public struct ServerConfiguration: Sendable {
    public var host = "127.0.0.1"
    public var port = 8080
    public var dataDir = "./petrel-data"
    /// A PostgreSQL store (`postgres://USER:PASS@HOST:PORT/DB`) shared by several nodes; nil: SQLite in dataDir.
    public var store: String?
    /// This node's name among the nodes sharing a PostgreSQL store (default HOSTNAME:DATA-DIR): a restarted node
    /// takes back its node number and what it left in flight.
    public var nodeName: String?
    public var logLevel = "info"
    /// `text` or `json` (one object per line, metadata such as RequestId as fields).
    public var logFormat = LogFormat.text

    // api
    public var hostId = ""
    public var timestampWindowSeconds: Int64 = 900
    public var dateOffsetSeconds = 8 * 3600
    public var defaultValiditySeconds: Int64 = 172_800
    public var maxTextLength = 1600
    public var maxBodyBytes = 4 * 1024 * 1024
    public var throttling: [String: Double] = [:]
    public var maxParameters = 200
    /// The SDKs send every parameter in the query string of a POST: the head must admit a whole batch.
    public var maxHeaderBytes = 4 * 1024 * 1024
    public var idleTimeoutSeconds = 30
    /// `api.approval`, `api.maxSignsPerAccount`, `api.maxTemplatesPerAccount` (dysmsapi 2017-05-25's signs and templates).
    public var signs = SignSettings()

    // http: the door's deadlines and connection cap (every route)
    /// Seconds from a request's first byte to the end of its head.
    public var headTimeoutSeconds = 10
    /// Seconds from the end of a request's head to the end of its body.
    public var bodyTimeoutSeconds = 30
    /// Open connections at most; more are answered 503 and closed. Lowered at start to leave descriptors for the
    /// store, carriers and receipts when the process may open fewer (RLIMIT_NOFILE).
    public var maxConnections = 4096

    // sandbox
    public var sandbox = SandboxChannel.Configuration()
    /// GET / DELETE /sandbox/messages: `.authenticated` (an access key's own account), `.open` (every account's,
    /// without credentials: a laptop only) or `.off`.
    public var sandboxRetrospection = Retrospection.authenticated

    public enum Retrospection: String, Sendable {
        case off, authenticated, open
    }

    // dispatcher
    public var dispatcher = Dispatcher.Configuration()
    /// False for an accept-only node: it takes API calls but hands nothing to carriers.
    public var dispatcherEnabled = true

    // receipts pushed to customers, and accounts set in the file
    public var receipts = ReceiptPusher.Configuration()
    public var accounts: [AccountSetting] = []
    /// How long finished messages, texts, sandbox rows and campaigns are kept (docs/configuration.md, `retention`).
    public var retention = RetentionConfiguration()

    public struct AccountSetting: Sendable, Equatable {
        public var name: String
        public var receiptURL: String
        /// nil: keep the stored secret (or make one).
        public var webhookSecret: String?
        /// Where inbound messages go (SmsUp); nil: keep the stored one.
        public var moURL: String? = nil
    }

    // inbound messages (`inbound:`) and their pushes (`receipts:` settings apply to both)
    public var inbound = InboundProcessor.Configuration()
    /// Suppression lists (`optOut:` and `accounts[].optOut`).
    public var optOut = OptOutConfiguration()

    // sending limits (`limits:`), top-level and per account
    public var limits = LimitsSetting()
    public var accountLimits: [String: LimitsSetting] = [:]
    /// The file `load(path:)` read (a SIGHUP re-reads its `limits:`); nil when none.
    public var configPath: String?

    // console and campaigns
    public var consoleEnabled = true
    public var consoleMaxUploadBytes = 128 * 1024 * 1024
    /// Caps on what campaigns put in the store once their texts are filled in: per campaign, and per account over
    /// its campaigns not yet finished (draft, running, paused).
    public var campaignMaxBytes = 256 * 1024 * 1024
    public var campaignMaxBytesPerAccount = 1024 * 1024 * 1024
    public var consoleSessionIdleSeconds = 8 * 3600
    /// Mark console cookies Secure even when requests do not show TLS (the console behind a TLS proxy).
    public var consoleSecureCookies = false
    /// Recipients a campaign hands to the send path per transaction.
    public var campaignChunk = 1000
    /// `receipts.pushLogEntries`: the console's push log keeps this many entries per account.
    public var pushLogEntries = 500

    // channels and routes
    public var smppChannels: [SMPPChannelConfiguration] = []
    /// `smppServer:`, the SMPP server for customers' ESMEs; nil: none.
    public var smppServer: SMPPServerSetting?
    public var httpChannels: [HTTPChannelConfiguration] = []
    /// Without `routes:` everything goes to the sandbox.
    public var routes: [MessageRouter.Route] = [MessageRouter.Route(channels: [SandboxChannel.channelId])]

    public init() {}

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// Reads a YAML (or JSON) config file on top of the defaults.
    public static func load(path: String) throws -> ServerConfiguration {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw Failure(description: "cannot read the config file \(path)")
        }
        var c = try parse(yaml: String(decoding: data, as: UTF8.self))
        c.configPath = path
        return c
    }

    public static func parse(yaml: String) throws -> ServerConfiguration {
        do {
            return try read(try ConfigNode.parse(yaml: yaml))
        } catch let e as ConfigNode.Failure {
            throw Failure(description: e.description)
        }
    }

    static func read(_ root: ConfigNode) throws -> ServerConfiguration {
        var c = ServerConfiguration()
        if let listen = try root.string("listen") { try c.setListen(listen) }
        c.dataDir = try root.string("dataDir", default: c.dataDir)
        c.store = try root.string("store")
        c.nodeName = try root.string("nodeName")
        c.logLevel = try root.string("logLevel", default: c.logLevel)
        let format = try root.string("logFormat", default: c.logFormat.rawValue)
        guard let logFormat = LogFormat(rawValue: format) else {
            throw ConfigNode.Failure(description: "logFormat must be text or json")
        }
        c.logFormat = logFormat
        guard ["trace", "debug", "info", "notice", "warning", "error", "critical"].contains(c.logLevel) else {
            throw ConfigNode.Failure(
                description: "logLevel must be one of trace, debug, info, notice, warning, error, critical"
            )
        }

        let api = try root.child("api")
        c.hostId = try api.string("hostId", default: c.hostId)
        c.timestampWindowSeconds = Int64(try api.int("timestampWindowSeconds", default: 900, range: 1...86_400))
        if let offset = try api.string("dateOffset") {
            guard let seconds = parseOffset(offset) else {
                throw ConfigNode.Failure(description: "api.dateOffset must look like +08:00 or -05:30")
            }
            c.dateOffsetSeconds = seconds
        }
        c.defaultValiditySeconds = Int64(try api.int("defaultValidityPeriod", default: 172_800, range: 0...31_536_000))
        c.maxTextLength = try api.int("maxTextLength", default: c.maxTextLength, range: 1...100_000)
        c.maxBodyBytes = try api.int("maxBodyBytes", default: c.maxBodyBytes, range: 1024...(256 << 20))
        c.maxParameters = try api.int("maxParameters", default: c.maxParameters, range: 20...10_000)
        c.maxHeaderBytes = try api.int("maxHeaderBytes", default: c.maxHeaderBytes, range: 1024...(256 << 20))
        c.idleTimeoutSeconds = try api.int("idleTimeoutSeconds", default: c.idleTimeoutSeconds, range: 1...3600)
        c.signs = try readSigns(api)
        let throttling = try api.child("throttling")
        for action in throttling.keys() {
            c.throttling[action] = try throttling.double(action, default: 0, range: 0...1_000_000)
        }

        let http = try root.child("http")
        c.headTimeoutSeconds = try http.int("headTimeoutSeconds", default: c.headTimeoutSeconds, range: 1...3600)
        c.bodyTimeoutSeconds = try http.int("bodyTimeoutSeconds", default: c.bodyTimeoutSeconds, range: 1...3600)
        c.maxConnections = try http.int("maxConnections", default: c.maxConnections, range: 1...1_000_000)

        let sandbox = try root.child("sandbox")
        c.sandbox.deliveryDelayMs = Int64(try sandbox.int("deliveryDelayMs", default: 300, range: 0...86_400_000))
        c.sandbox.slowDelayMs = Int64(try sandbox.int("slowDelayMs", default: 10_000, range: 0...86_400_000))
        switch try sandbox.string("retrospection")?.lowercased() {
        case nil, "true", "authenticated": c.sandboxRetrospection = .authenticated
        case "false", "off": c.sandboxRetrospection = .off
        case "open": c.sandboxRetrospection = .open
        default:
            throw ConfigNode.Failure(
                description: "sandbox.retrospection must be true (an access key's own account), open or false"
            )
        }

        let console = try root.child("console")
        c.consoleEnabled = try console.bool("enabled", default: true)
        c.consoleMaxUploadBytes = try console.int(
            "maxUploadBytes",
            default: c.consoleMaxUploadBytes,
            range: 1024...(1 << 30)
        )
        c.consoleSessionIdleSeconds = try console.int(
            "sessionIdleSeconds",
            default: c.consoleSessionIdleSeconds,
            range: 60...(30 * 86_400)
        )
        c.consoleSecureCookies = try console.bool("secureCookies", default: false)
        c.campaignChunk = try console.int("campaignChunk", default: c.campaignChunk, range: 1...1000)
        c.campaignMaxBytes = try console.int("maxCampaignBytes", default: c.campaignMaxBytes, range: 1024...(1 << 40))
        c.campaignMaxBytesPerAccount = try console.int(
            "maxCampaignBytesPerAccount",
            default: c.campaignMaxBytesPerAccount,
            range: 1024...(1 << 40)
        )

        let dispatcher = try root.child("dispatcher")
        c.dispatcherEnabled = try dispatcher.bool("enabled", default: true)
        c.dispatcher.batchSize = try dispatcher.int("batchSize", default: 1000, range: 1...50_000)
        c.dispatcher.pollMs = Int64(try dispatcher.int("pollMs", default: 100, range: 1...60_000))
        c.dispatcher.leaseMs = Int64(try dispatcher.int("leaseMs", default: 60_000, range: 1000...3_600_000))
        c.dispatcher.lingerMs = Int64(
            try dispatcher.int("lingerMs", default: Int(c.dispatcher.lingerMs), range: 0...1000)
        )

        let receipts = try root.child("receipts")
        c.receipts.batchSize = try receipts.int("batchSize", default: 100, range: 1...10_000)
        c.receipts.maxWaitMs = Int64(try receipts.int("maxWaitMs", default: 1000, range: 0...600_000))
        c.receipts.pollMs = Int64(try receipts.int("pollMs", default: 200, range: 10...60_000))
        c.receipts.timeoutMs = Int64(try receipts.int("timeoutMs", default: 10_000, range: 100...600_000))
        c.receipts.retryBaseMs = Int64(try receipts.int("retryBaseMs", default: 1000, range: 10...3_600_000))
        c.receipts.retryMaxMs = Int64(try receipts.int("retryMaxMs", default: 300_000, range: 10...86_400_000))
        c.receipts.maxAttempts = try receipts.int("maxAttempts", default: 25, range: 1...1000)
        c.receipts.maxAgeMs = Int64(try receipts.int("maxAgeSeconds", default: 86_400, range: 1...31_536_000)) * 1000
        c.pushLogEntries = try receipts.int("pushLogEntries", default: 500, range: 1...100_000)
        c.receipts.dateOffsetSeconds = c.dateOffsetSeconds
        c.receipts.tls = try readTLS(receipts, serverName: false) ?? TLSSettings()
        var accountNodes: [(name: String, node: ConfigNode)] = []
        for node in try root.list("accounts") {
            let name = try node.string("name") ?? ""
            guard !name.isEmpty else { throw ConfigNode.Failure(description: "\(node.key("name")) is required") }
            // Account names are compared by bytes in the store and by Swift in memory: ASCII keeps both the same.
            guard isPlainIdentifier(name, maxLength: 64) else {
                throw ConfigNode.Failure(
                    description: "\(node.key("name")) must be 1 to 64 printable ASCII characters without spaces"
                )
            }
            let url = try node.string("receiptUrl", default: "")
            guard url.isEmpty || WebhookClient.Endpoint(url: url) != nil else {
                throw ConfigNode.Failure(
                    description: "\(node.key("receiptUrl")) must be an http[s]://host[:port]/path URL, got \(url)"
                )
            }
            let moURL = try node.string("moUrl")
            if let moURL, !moURL.isEmpty, WebhookClient.Endpoint(url: moURL) == nil {
                throw ConfigNode.Failure(
                    description: "\(node.key("moUrl")) must be an http[s]://host[:port]/path URL, got \(moURL)"
                )
            }
            c.accounts.append(
                AccountSetting(
                    name: name,
                    receiptURL: url,
                    webhookSecret: try node.string("webhookSecret"),
                    moURL: moURL
                )
            )
            accountNodes.append((name, node))
            if let tls = try readTLS(node, serverName: false) { c.receipts.accountTLS[name] = tls }
            c.accountLimits[name] = try readLimits(try node.child("limits"))
        }
        c.retention = try RetentionConfiguration.read(root, accounts: accountNodes)

        let limits = try root.child("limits")
        c.limits = try readLimits(limits, topLevel: true)
        c.limits.caps = try readCaps(limits, accounts: Set(c.accounts.map(\.name)))
        try readChannels(root, into: &c)
        c.inbound = try readInbound(root)
        c.smppServer = try readSMPPServer(root)
        c.setOptOut(try readOptOut(root, accounts: accountNodes))
        try root.finish()
        return c
    }

    /// `HOST:PORT`, `:PORT` or `[v6]:PORT`.
    public mutating func setListen(_ text: String) throws {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
            (0...65_535).contains(port)
        else {
            throw Failure(description: "listen must be HOST:PORT, got \(text)")
        }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        self.host = host.isEmpty ? "0.0.0.0" : host
        self.port = port
    }

    static func parseOffset(_ text: String) -> Int? {
        let t = text.uppercased()
        if t == "Z" || t == "UTC" { return 0 }
        guard t.count == 6, let sign = t.first, sign == "+" || sign == "-" else { return nil }
        let parts = t.dropFirst().split(separator: ":")
        guard parts.count == 2, let h = Int(parts[0]), let m = Int(parts[1]), h <= 14, m < 60 else { return nil }
        return (sign == "-" ? -1 : 1) * (h * 3600 + m * 60)
    }
}
