import Logging
import PetrelAPI
import PetrelCore
import PetrelDelivery
import PetrelStore
import ServiceLifecycle

/// Sends running campaigns in chunks through the API's own path (BatchSendMessageToGlobe's validation and
/// message creation). Each chunk's messages and the campaign's cursor commit together, so after a crash or a
/// restart a campaign resumes exactly after its last committed chunk: no row is skipped or sent twice.
struct CampaignRunner: Service {
    let store: any CampaignStore
    let gateway: Gateway
    let wake: WakeSignal
    let chunk: Int
    let logger: Logger
    let clock: @Sendable () -> Int64

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                var worked = false
                do {
                    // One chunk per campaign per round: campaigns running side by side share the path.
                    for c in try await store.runnableCampaigns(nowMs: clock()) where !Task.isCancelled {
                        worked = try await step(c) || worked
                    }
                } catch {
                    logger.storeFailure("campaign round failed", error)
                    try? await Task.sleep(for: .seconds(1))
                }
                if !worked { await wake.wait(timeoutMs: 500) }
            }
        }
    }

    /// Sends the next chunk of `c`; false when it had nothing left (it is then marked done).
    func step(_ c: CampaignRecord) async throws -> Bool {
        let rows = try await store.campaignRows(id: c.id, from: c.cursor, limit: chunk)
        let now = clock()
        guard !rows.isEmpty else {
            _ = try await store.setCampaignStatus(id: c.id, account: c.account, to: .done, from: [.running], nowMs: now)
            return false
        }
        // Texts are filled in now, a chunk at a time: the store holds each row's values, not its text.
        let template = c.columns.flatMap { try? CampaignTemplate(c.text, columns: $0) }
        var params: [(String, String)] = [
            ("To", ResponseEncoder.jsonArrayText(rows.map(\.to))),
            ("Message", ResponseEncoder.jsonArrayText(rows.map { $0.text(template) })),
            ("Type", c.type.rawValue),
            ("TaskId", c.taskId.isEmpty ? "campaign-\(c.id)" : c.taskId),
        ]
        if !c.from.isEmpty { params.append(("From", c.from)) }
        if let v = c.validitySeconds { params.append(("ValidityPeriod", String(v))) }
        var writes = WriteBatch()
        var prepared: ActionResult?
        do {
            let result = try await gateway.prepare(
                action: BatchSendMessageToGlobe.name,
                account: c.account,
                parameters: params,
                nowMs: now
            )
            writes = result.writes
            prepared = result
        } catch {
            // A chunk the send path refuses as a whole is counted failed; the campaign goes on.
            logger.warning("campaign chunk refused", metadata: ["campaign": "\(c.id)", "error": "\(error)"])
        }
        // The span of ids these messages take, noted before they are stored: the statistics fold counts a
        // campaign's delivered / failed / expired messages by it (and its task id).
        if let lowest = writes.messages.lazy.map(\.id).min(), let highest = writes.messages.lazy.map(\.id).max() {
            try await store.noteCampaignMessages(
                id: c.id,
                account: c.account,
                taskId: c.taskId.isEmpty ? "campaign-\(c.id)" : c.taskId,
                lowest: lowest,
                highest: highest
            )
        }
        writes.campaign = CampaignProgress(
            campaignId: c.id,
            from: c.cursor,
            cursor: c.cursor + rows.count,
            accepted: writes.messages.count,
            failed: rows.count - writes.messages.count,
            atMs: now
        )
        // Under limits.perNumber the store refuses rows over a limit and counts them failed with the chunk.
        if var limited = prepared, limited.limited != nil {
            limited.writes = writes
            _ = try await gateway.accept(limited)
        } else {
            try await gateway.accept(writes)
        }
        return true
    }
}
