import Logging
public import NIOCore
import NIOSSL
public import PetrelCore
public import PetrelStore
public import ServiceLifecycle
import Synchronization

/// How an `OutboxPusher` works its outbox: batches, waits, timeouts, retries and when to park.
public struct PushConfiguration: Sendable {
    /// Items per POST.
    public var batchSize = 100
    /// How long a due item may wait for a batch to fill.
    public var maxWaitMs: Int64 = 1000
    public var pollMs: Int64 = 200
    public var timeoutMs: Int64 = 10_000
    /// Backoff: retryBaseMs × 2^attempts, capped at retryMaxMs, times a random factor in [0.5, 1).
    public var retryBaseMs: Int64 = 1000
    public var retryMaxMs: Int64 = 300_000
    /// After this many attempts, or this age, an item is parked (kept, not pushed until retried).
    public var maxAttempts = 25
    public var maxAgeMs: Int64 = 86_400_000
    /// How often account settings are read again (a CLI change reaches a running server this fast).
    public var accountsRefreshMs: Int64 = 2000
    public var dateOffsetSeconds = 8 * 3600
    /// TLS of `https://` URLs (`receipts.tls`), and per account (`accounts[].tls`, in place of it).
    public var tls = TLSSettings()
    public var accountTLS: [String: TLSSettings] = [:]

    public init() {}
}

/// Receipts pushed to each account's receipt URL.
public typealias ReceiptPusher = OutboxPusher<ReceiptFeed>

/// Pushes items (receipts, inbound messages: the `Feed`) from a durable outbox to each account's URL, in batches,
/// signed, with retries; parked after too many. One push at a time per account (so a slow receiver slows only its
/// own account); accounts run side by side.
public final class OutboxPusher<Feed: PushFeed>: Service, Sendable {
    public typealias Configuration = PushConfiguration

    struct Target: Sendable {
        var endpoint: WebhookClient.Endpoint?
        var url: String
        var secret: String
        var tls: TLSConfiguration? = nil
        /// Why the TLS files cannot be used (they changed since startup): every push fails with it.
        var tlsProblem: String? = nil
    }

    let feed: Feed
    let client: WebhookClient
    let configuration: Configuration
    let logger: Logger
    let clock: @Sendable () -> Int64
    /// Where each POST's outcome is noted for the console (nil: nowhere).
    let log: PushLog?
    private let busy = Mutex<Set<String>>([])

    public init(
        feed: Feed,
        configuration: Configuration,
        logger: Logger,
        clock: @escaping @Sendable () -> Int64,
        client: WebhookClient = WebhookClient(),
        log: PushLog? = nil
    ) {
        self.log = log
        self.feed = feed
        self.configuration = configuration
        self.logger = logger
        self.clock = clock
        self.client = client
    }

    public func run() async throws {
        await withDiscardingTaskGroup { group in
            var targets: [String: Target] = [:]
            var refreshedAt: Int64?
            while !Task.isCancelled && !Task.isShuttingDownGracefully {
                let now = clock()
                if refreshedAt.map({ now - $0 >= configuration.accountsRefreshMs }) ?? true {
                    do {
                        targets = try await loadTargets()
                        refreshedAt = now
                    } catch {
                        logger.storeFailure("cannot read \(Feed.name) settings", error)
                    }
                }
                for (account, target) in targets where claim(account) {
                    do {
                        var due = try await feed.due(
                            account: account,
                            nowMs: now,
                            limit: configuration.batchSize
                        )
                        let oldest = due.map { $0.createdAtMs }.min() ?? now
                        guard !due.isEmpty,
                            due.count == configuration.batchSize || now - oldest >= configuration.maxWaitMs
                        else {
                            release(account)
                            continue
                        }
                        due = try await lease(due, nowMs: now)
                        guard !due.isEmpty else {
                            release(account)
                            continue
                        }
                        group.addTask {
                            await self.drain(account: account, target: target, first: due)
                            self.release(account)
                        }
                    } catch {
                        release(account)
                        logger.storeFailure("cannot read the \(Feed.name) outbox", error)
                    }
                }
                try? await Task.sleep(for: .milliseconds(configuration.pollMs))
            }
        }
    }

    /// Takes the items about to be pushed, so that no other node sharing the store pushes them too. A node that
    /// dies mid-push leaves them due again after the lease (twice the POST timeout): pushes are at least once.
    func lease(_ due: [Feed.Item], nowMs: Int64) async throws -> [Feed.Item] {
        guard !due.isEmpty else { return due }
        let taken = try await feed.lease(
            ids: due.map(\.id),
            nowMs: nowMs,
            untilMs: nowMs + 2 * configuration.timeoutMs
        )
        return due.filter { taken.contains($0.id) }
    }

    private func claim(_ account: String) -> Bool { busy.withLock { $0.insert(account).inserted } }
    private func release(_ account: String) { _ = busy.withLock { $0.remove(account) } }

    func loadTargets() async throws -> [String: Target] {
        var targets: [String: Target] = [:]
        for a in try await feed.accounts() {
            let url = feed.url(of: a)
            guard !url.isEmpty else { continue }
            var target = Target(endpoint: WebhookClient.Endpoint(url: url), url: url, secret: a.webhookSecret)
            if target.endpoint?.secure == true {
                do {
                    target.tls = try (configuration.accountTLS[a.name] ?? configuration.tls).clientConfiguration()
                } catch {
                    target.tlsProblem = TLSErrorText.describe(error, host: "", peer: "the receiver") ?? "\(error)"
                }
            }
            targets[a.name] = target
        }
        return targets
    }

    /// Pushes batch after batch while full batches keep coming and the receiver keeps taking them. Removing a
    /// taken batch from the outbox (a commit) overlaps the next POST; the next batch skips the ids being removed.
    /// The removal runs as a child task of a group (at most one at a time), so it is awaited before the next one
    /// starts and before `drain` returns, and is cancelled with it.
    func drain(account: String, target: Target, first: [Feed.Item]) async {
        await withTaskGroup(of: Void.self) { removals in
            var batch = first
            while !batch.isEmpty {
                if let failure = await post(batch, account: account, target: target) {
                    feed.pushFailed()
                    await scheduleRetries(batch, failure: failure, account: account)
                    break
                }
                let now = clock()
                feed.pushed(batch.count, lagsMs: batch.map { max(0, now - $0.createdAtMs) })
                await removals.next()
                let ids = batch.map(\.id)
                removals.addTask { await self.recordPushed(ids, nowMs: now) }
                guard batch.count == configuration.batchSize, !Task.isShuttingDownGracefully else { break }
                do {
                    let skip = Set(ids)
                    let now = clock()
                    let due = try await feed.due(
                        account: account,
                        nowMs: now,
                        limit: configuration.batchSize * 2
                    )
                    batch = try await lease(
                        Array(due.filter { !skip.contains($0.id) }.prefix(configuration.batchSize)),
                        nowMs: now
                    )
                } catch {
                    break
                }
            }
        }
    }

    /// Removes items the receiver took from the outbox.
    func recordPushed(_ ids: [Int64], nowMs: Int64) async {
        do {
            try await feed.taken(ids: ids, nowMs: nowMs)
        } catch {
            // The receiver has them; they will be pushed again (receivers de-duplicate on ReportId / sequence_id).
            logger.storeFailure("cannot record pushed \(Feed.name)s", error)
        }
    }

    /// One POST. Returns nil when the receiver took the batch, else why not (and notes it in the push log).
    func post(_ batch: [Feed.Item], account: String, target: Target) async -> String? {
        let problem = await send(batch, account: account, target: target)
        log?.record(
            PushLog.Entry(
                atMs: clock(),
                account: account,
                kind: Feed.name,
                url: target.url,
                items: batch.count,
                attempt: (batch.map(\.attempts).max() ?? 0) + 1,
                problem: problem
            )
        )
        return problem
    }

    private func send(_ batch: [Feed.Item], account: String, target: Target) async -> String? {
        guard let endpoint = target.endpoint else {
            return "the \(Feed.name) URL \(target.url) is not an http:// or https:// URL"
        }
        if let problem = target.tlsProblem { return problem }
        let body = feed.body(batch, dateOffsetSeconds: configuration.dateOffsetSeconds)
        do {
            let response = try await client.post(
                endpoint,
                body: body,
                headers: [
                    ("X-Petrel-Signature", ReceiptReport.signature(body: body, secret: target.secret)),
                    ("X-Petrel-Account", account),
                ],
                timeout: .milliseconds(configuration.timeoutMs),
                tls: target.tls
            )
            if ReceiptReport.accepted(status: response.status, body: response.body) { return nil }
            return "the receiver answered HTTP \(response.status): "
                + String(decoding: response.body.prefix(200), as: UTF8.self)
        } catch {
            return "\(error)"
        }
    }

    func scheduleRetries(_ batch: [Feed.Item], failure: String, account: String) async {
        let now = clock()
        var retries: [ReceiptRetry] = []
        var park: [Int64] = []
        for r in batch {
            if r.attempts + 1 >= configuration.maxAttempts || now - r.createdAtMs >= configuration.maxAgeMs {
                park.append(r.id)
            } else {
                retries.append(
                    ReceiptRetry(id: r.id, atMs: now, nextAtMs: now + backoff(attempts: r.attempts), error: failure)
                )
            }
        }
        logger.notice(
            "\(Feed.name) push not taken",
            metadata: [
                "account": "\(account)", "items": "\(batch.count)", "parked": "\(park.count)", "error": "\(failure)",
            ]
        )
        do {
            try await feed.retry(retries)
            try await feed.park(ids: park, error: failure, nowMs: now)
        } catch {
            logger.storeFailure("cannot reschedule \(Feed.name)s", error)
        }
    }

    func backoff(attempts: Int) -> Int64 {
        let exponent = min(attempts, 30)
        let base = min(configuration.retryMaxMs, configuration.retryBaseMs << Int64(exponent))
        return Int64(Double(base) * Double.random(in: 0.5..<1.0))
    }
}
