import PetrelCore
import PetrelStore

/// dysmsapi 2017-05-25 `QuerySendStatistics`: an account's messages per +0800 day between two dates, mainland
/// China (IsGlobe 1) or international (2), by outcome. Messages of both API versions count: they are what the
/// account sent. TemplateType and SignName are accepted and do not narrow the totals.
public struct QuerySendStatistics: RPCAction {
    public static let name = "QuerySendStatistics"
    public static let version = APIVersion.classic
    /// The longest span asked at once, in days (each day is a range of the messages' primary key to scan).
    public static let maxDays: Int64 = 31

    public init() {}

    public func run(_ call: ActionCall) async throws -> ActionResult {
        let globe = try call.params.required("IsGlobe")
        let startText = try call.params.required("StartDate")
        let endText = try call.params.required("EndDate")
        let pageText = try call.params.required("PageIndex")
        let sizeText = try call.params.required("PageSize")
        guard globe == "1" || globe == "2" else {
            return ClassicSend.rejected(
                ClassicCode.invalidParameters.with("IsGlobe must be 1 (mainland China) or 2 (international).")
            )
        }
        guard let size = Int(sizeText), (1...50).contains(size) else {
            return ClassicSend.rejected(ClassicCode.invalidParameters.with("PageSize must be 1 to 50."))
        }
        guard let page = Int(pageText), (1...1000).contains(page) else {
            return ClassicSend.rejected(ClassicCode.invalidParameters.with("PageIndex must be a whole number from 1."))
        }
        guard let start = AlibabaDate.parseDay(startText), let end = AlibabaDate.parseDay(endText) else {
            return ClassicSend.rejected(
                ClassicCode.invalidParameters.with("StartDate and EndDate must be calendar dates written yyyyMMdd.")
            )
        }
        guard start <= end, end - start < Self.maxDays else {
            return ClassicSend.rejected(
                ClassicCode.queryDateIllegal.with(
                    "StartDate must not be after EndDate, and they may span at most \(Self.maxDays) days."
                )
            )
        }
        let offsetMs = Int64(call.env.dateOffsetSeconds) * 1000
        let from = MessageIDGenerator.firstId(atMs: start * 86_400_000 - offsetMs)
        let to = MessageIDGenerator.firstId(atMs: (end + 1) * 86_400_000 - offsetMs)
        let days = try await call.env.store.sendStatistics(
            SendStatisticsQuery(account: call.account, ids: from..<to, mainland: globe == "1", offsetMs: offsetMs)
        )
        let shown = days.dropFirst((page - 1) * size).prefix(size)
        let targets = shown.map { d -> ResponseValue in
            .object([
                ("TotalCount", .number(Int64(d.total))),
                ("RespondedSuccessCount", .number(Int64(d.delivered))),
                ("RespondedFailCount", .number(Int64(d.failed))),
                ("NoRespondedCount", .number(Int64(d.total - d.delivered - d.failed))),
                ("SendDate", .string(AlibabaDate.day(d.day))),
            ])
        }
        return ActionResult(fields: [
            ("Code", .string("OK")),
            ("Message", .string("OK")),
            ("Data", .object([("TotalSize", .number(Int64(days.count))), ("TargetList", .array(targets))])),
        ])
    }
}
