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
}
