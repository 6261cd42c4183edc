public import PetrelCore

/// Campaigns uploaded in the console and the rows the campaign runner sends from.
public protocol CampaignStore: Sendable {
    /// Stores a campaign (as given, status included) and its valid rows; returns its id.
    func createCampaign(_ campaign: CampaignRecord, rows: [CampaignRow]) async throws -> Int64
    func campaign(id: Int64, account: String) async throws -> CampaignRecord?
    /// Every invalid row of a campaign, one per line.
    func campaignInvalidReport(id: Int64, account: String) async throws -> String?
    func campaigns(account: String) async throws -> [CampaignRecord]
    /// Moves a campaign to `status` if its current status is in `from`; returns whether it moved.
    func setCampaignStatus(
        id: Int64,
        account: String,
        to status: CampaignStatus,
        from: Set<CampaignStatus>,
        nowMs: Int64
    ) async throws -> Bool
    /// Running campaigns whose start time has come, oldest first.
    func runnableCampaigns(nowMs: Int64) async throws -> [CampaignRecord]
    /// Up to `limit` rows of a campaign from row index `from` (0-based) on.
    func campaignRows(id: Int64, from: Int, limit: Int) async throws -> [CampaignRow]
    /// Says that campaign `id` of `account` is about to store messages with task id `taskId` and ids from
    /// `lowest` to `highest`: its span grows to cover them (before they are stored, so a fold never meets a message
    /// of a campaign without its span). The statistics fold then counts the campaign's messages as they become
    /// final: those of `account` with that task id inside the span.
    func noteCampaignMessages(id: Int64, account: String, taskId: String, lowest: Int64, highest: Int64) async throws
    /// What became of the accepted messages of the campaigns `ids` of `account`, as counted at this moment
    /// (folded counters and what is not folded yet). A campaign that never sent anything has no entry.
    func campaignOutcomes(ids: [Int64], account: String) async throws -> [Int64: CampaignOutcome]
}

/// How many of a campaign's messages were delivered, failed and expired.
public struct CampaignOutcome: Sendable, Equatable {
    public var delivered: Int
    public var failed: Int
    public var expired: Int

    public init(delivered: Int = 0, failed: Int = 0, expired: Int = 0) {
        self.delivered = delivered
        self.failed = failed
        self.expired = expired
    }

    public var final: Int { delivered + failed + expired }
}
