import PetrelCore
import PetrelStore

/// dysmsapi 2017-05-25 `QuerySendDetails`: one number's messages of one day (and of one BizId), page by page. It
/// sees only messages sent through 2017-05-25, as QueryMessage sees only 2018-05-01's.
public struct QuerySendDetails: RPCAction {
    public static let name = "QuerySendDetails"
    public static let version = APIVersion.classic
    public static let maxPageSize = 50

    public init() {}

    public func run(_ call: ActionCall) async throws -> ActionResult {
        let phone = try call.params.required("PhoneNumber")
        let date = try call.params.required("SendDate")
        let pageSizeText = try call.params.required("PageSize")
        let pageText = try call.params.required("CurrentPage")
        guard let pageSize = Int(pageSizeText), (1...Self.maxPageSize).contains(pageSize) else {
            return ClassicSend.rejected(
                ClassicCode.invalidParameters.with("PageSize must be 1 to \(Self.maxPageSize).")
            )
        }
        // Pages past this would skip more rows than a day of one number holds in any store.
        guard let page = Int(pageText), (1...1_000_000).contains(page) else {
            return ClassicSend.rejected(
                ClassicCode.invalidParameters.with("CurrentPage must be a whole number from 1.")
            )
        }
        guard case .success(let number) = PhoneNumber.parseClassic(phone) else {
            return ClassicSend.rejected(ClassicCode.mobileNumberIllegal.with("\(phone) is not a valid mobile number."))
        }
        guard let day = AlibabaDate.parseDay(date) else {
            return ClassicSend.rejected(
                ClassicCode.invalidParameters.with("SendDate must be a calendar date written yyyyMMdd, e.g. 20250601.")
            )
        }
        let offsetMs = Int64(call.env.dateOffsetSeconds) * 1000
        let startMs = day * 86_400_000 - offsetMs
        let first = MessageIDGenerator.firstId(atMs: startMs)
        let end = MessageIDGenerator.firstId(atMs: startMs + 86_400_000)
        var bizId: Int64?
        if let text = call.params.optional("BizId") {
            guard let parsed = Self.bizId(text) else {
                return ClassicSend.rejected(ClassicCode.invalidParameters.with("BizId \(text) is not one Petrel gave."))
            }
            bizId = parsed
        }
        // A day no id can fall in (before 2020, or past what ids hold) has no messages: an empty range, not a trap.
        guard first < end else { return Self.answer(total: 0, [], offsetSeconds: call.env.dateOffsetSeconds) }
        let ids = first...(end - 1)
        let found = try await call.env.store.sendDetails(
            SendDetailsQuery(
                account: call.account,
                to: number.digits,
                ids: ids,
                bizId: bizId,
                offset: (page - 1) * pageSize,
                limit: pageSize
            )
        )
        return Self.answer(total: found.total, found.messages, offsetSeconds: call.env.dateOffsetSeconds)
    }

    /// A send's BizId as it answers it: its first message's id and `^0`, the form of Alibaba's.
    static func bizIdText(_ id: Int64) -> String { "\(id)^0" }

    /// The id a BizId names (`ID^0`); nil when it is not of that form.
    static func bizId(_ text: String) -> Int64? {
        let parts = text.split(separator: "^", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[1] == "0", let id = Int64(parts[0]), id > 0 else { return nil }
        return id
    }

    static func answer(total: Int, _ messages: [Message], offsetSeconds: Int) -> ActionResult {
        let dtos = messages.map { m -> ResponseValue in
            let (code, _) = m.outcomeFields
            return .object([
                ("PhoneNum", .string(m.to)),
                ("SendStatus", .number(Int64(m.sendStatus))),
                ("ErrCode", .string(code)),
                ("TemplateCode", .string(m.templateCode)),
                ("Content", .string(m.text)),
                ("SendDate", .string(AlibabaDate.plain(ms: m.sentAtMs ?? m.createdAtMs, offsetSeconds: offsetSeconds))),
                (
                    "ReceiveDate",
                    .string(m.doneAtMs.map { AlibabaDate.plain(ms: $0, offsetSeconds: offsetSeconds) } ?? "")
                ),
                ("OutId", .string(m.taskId)),
            ])
        }
        return ActionResult(fields: [
            ("Code", .string("OK")),
            ("Message", .string("OK")),
            ("TotalCount", .string(String(total))),
            ("SmsSendDetailDTOs", .object([("SmsSendDetailDTO", .array(dtos))])),
        ])
    }
}

extension Message {
    /// 2017-05-25's SendStatus: 1 waiting for its receipt, 2 failed, 3 delivered.
    var sendStatus: Int {
        switch status {
        case .delivered: return 3
        case .failed, .expired: return 2
        case .queued, .submitting, .sent: return 1
        }
    }
}
