public import PetrelCore

/// A search of one account's messages (the console's messages page). Empty fields do not filter.
public struct MessageQuery: Sendable, Equatable {
    public var account: String
    public var to: String = ""
    public var taskId: String = ""
    public var messageId: Int64?
    public var status: MessageStatus?
    public var sinceMs: Int64?
    public var untilMs: Int64?
    public var limit: Int = 100
    /// Part of the number (digits anywhere in it) and part of the text, case-insensitive for ASCII.
    public var toContains: String = ""
    public var textContains: String = ""
    /// Keyset pages: only ids below `beforeId` (older) or above `afterId` (newer), newest first either way.
    public var beforeId: Int64?
    public var afterId: Int64?
    /// The part and text searches look at no more than this many of the account's messages (the newest past the
    /// page's key): a LIKE cannot use an index, so the bound keeps one search from reading the whole table.
    public var scanLimit: Int = 25_000

    public init(account: String) { self.account = account }

    /// Whether a LIKE search runs (and so `scanLimit` bounds it).
    public var isPatternSearch: Bool { !toContains.isEmpty || !textContains.isEmpty }

    /// `value` as a LIKE pattern matching it anywhere, with `\` escaping the wildcards it contains.
    public static func likePattern(_ value: String) -> String {
        var out = "%"
        for c in value.lowercased() {
            if c == "%" || c == "_" || c == "\\" { out.append("\\") }
            out.append(c)
        }
        return out + "%"
    }
}

/// A part of a message as a carrier accepted it, and what its receipt said.
public struct PartView: Sendable, Equatable {
    public var part: Int
    public var total: Int
    public var channel: String
    public var carrierId: String
    public var status: MessageStatus
    public var errorCode: String
    public var sentAtMs: Int64
    public var doneAtMs: Int64?

    public init(
        part: Int,
        total: Int,
        channel: String,
        carrierId: String,
        status: MessageStatus,
        errorCode: String,
        sentAtMs: Int64,
        doneAtMs: Int64?
    ) {
        self.part = part
        self.total = total
        self.channel = channel
        self.carrierId = carrierId
        self.status = status
        self.errorCode = errorCode
        self.sentAtMs = sentAtMs
        self.doneAtMs = doneAtMs
    }
}

/// Messages accepted in one time bucket, by their current status (the console's overview chart).
public struct StatusBucket: Sendable, Equatable {
    public var startMs: Int64
    public var counts: [MessageStatus: Int]

    public init(startMs: Int64, counts: [MessageStatus: Int]) {
        self.startMs = startMs
        self.counts = counts
    }
}

public enum CampaignStatus: String, Sendable, CaseIterable {
    /// Uploaded and previewed; nothing sent until started.
    case draft
    /// Sending (or waiting for its start time).
    case running
    case paused
    case cancelled
    case done

    public var isFinal: Bool { self == .cancelled || self == .done }
}

/// A mass-messaging campaign: its settings and progress. Its valid rows are stored beside it and sent in order;
/// `cursor` (rows handed to the send path) advances in the same transaction as the messages it created.
public struct CampaignRecord: Sendable, Equatable {
    public var id: Int64
    public var account: String
    public var name: String
    public var text: String
    public var type: MessageType
    public var from: String
    public var validitySeconds: Int64?
    public var taskId: String
    public var startAtMs: Int64?
    public var status: CampaignStatus
    /// Data rows in the upload, valid ones (stored and sent) and invalid ones (listed in `invalidReport`).
    public var totalRows: Int
    public var validRows: Int
    public var invalidRows: Int
    /// Total parts (segments) of the valid rows.
    public var parts: Int
    public var cursor: Int
    public var accepted: Int
    public var failed: Int
    /// One line per invalid row (`line N: number: reason`); a stored record keeps the first
    /// `CampaignRecord.previewLines`, the store's `campaignInvalidReport` has them all.
    public var invalidReport: String
    /// Valid rows by parts per message, e.g. `1 part: 950 · 2 parts: 50`.
    public var segmentsSummary: String
    /// At creation only: the invalid rows as a CSV to fix and upload again (`CampaignPlan.invalidCSV`), which the
    /// store keeps as the full report (`campaignInvalidReport`) in place of `invalidReport`'s lines.
    public var invalidCSV = ""
    /// The CSV's column names, against which `text` is filled in for each row when it is sent. Nil for a campaign
    /// stored before rows were rendered at send time: its rows hold their finished texts.
    public var columns: [String]?
    /// UTF-8 bytes of all its messages' texts once filled in (0 for campaigns stored before it was counted).
    public var renderedBytes: Int
    public var createdAtMs: Int64
    public var updatedAtMs: Int64

    public init(
        id: Int64 = 0,
        account: String,
        name: String,
        text: String,
        type: MessageType,
        from: String,
        validitySeconds: Int64?,
        taskId: String,
        startAtMs: Int64?,
        status: CampaignStatus = .draft,
        totalRows: Int,
        validRows: Int,
        invalidRows: Int,
        parts: Int,
        cursor: Int = 0,
        accepted: Int = 0,
        failed: Int = 0,
        invalidReport: String,
        segmentsSummary: String = "",
        columns: [String]? = nil,
        renderedBytes: Int = 0,
        createdAtMs: Int64,
        updatedAtMs: Int64
    ) {
        self.segmentsSummary = segmentsSummary
        self.columns = columns
        self.renderedBytes = renderedBytes
        self.id = id
        self.account = account
        self.name = name
        self.text = text
        self.type = type
        self.from = from
        self.validitySeconds = validitySeconds
        self.taskId = taskId
        self.startAtMs = startAtMs
        self.status = status
        self.totalRows = totalRows
        self.validRows = validRows
        self.invalidRows = invalidRows
        self.parts = parts
        self.cursor = cursor
        self.accepted = accepted
        self.failed = failed
        self.invalidReport = invalidReport
        self.createdAtMs = createdAtMs
        self.updatedAtMs = updatedAtMs
    }
}

extension CampaignRecord {
    /// What the store keeps as the full invalid-rows report: the CSV when there is one, else the lines.
    public var fullInvalidReport: String { invalidCSV.isEmpty ? invalidReport : invalidCSV }

    public static let previewLines = 100

    /// Column names as the store keeps them: one CSV line.
    public static func columns(fromLine line: String) -> [String] { CSV.parse(line).first?.fields ?? [] }

    /// The first `previewLines` lines of a report.
    public static func preview(of report: String) -> String {
        var count = 0
        for i in report.utf8.indices where report.utf8[i] == UInt8(ascii: "\n") {
            count += 1
            if count == previewLines { return String(report[..<i]) }
        }
        return report
    }
}

/// One valid row of a campaign: its number and `body`, its CSV values as one CSV line (filled into the
/// campaign's text when the row is sent), or its finished text for a campaign without `columns`.
public struct CampaignRow: Sendable, Equatable {
    public var to: String
    public var body: String

    public init(to: String, body: String) {
        self.to = to
        self.body = body
    }

    /// The row's text: `template` filled in with its values, or the stored text of a campaign from before.
    public func text(_ template: CampaignTemplate?) -> String {
        guard let template else { return body }
        return template.render(CSV.parse(body).first?.fields ?? [])
    }
}

/// A campaign chunk handed to the send path, committed with the messages it created.
public struct CampaignProgress: Sendable, Equatable {
    public var campaignId: Int64
    /// The cursor this chunk started from: the write is refused (`StoreError.conflict`) unless the campaign is
    /// still there, so two nodes that picked the same chunk cannot both send it.
    public var from: Int?
    /// The cursor after this chunk.
    public var cursor: Int
    public var accepted: Int
    public var failed: Int
    public var atMs: Int64

    public init(campaignId: Int64, from: Int? = nil, cursor: Int, accepted: Int, failed: Int, atMs: Int64) {
        self.campaignId = campaignId
        self.from = from
        self.cursor = cursor
        self.accepted = accepted
        self.failed = failed
        self.atMs = atMs
    }
}
