import Crypto
import Foundation
public import PetrelCore
public import PetrelStore

/// The body of a receipt push: Alibaba's HTTP batch format (a JSON array of SmsReport objects, every value a
/// string), plus `ReportId`, stable across retries, for de-duplication.
public enum ReceiptReport {
    public static func body(_ receipts: [OutboxReceipt], dateOffsetSeconds: Int) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(receipts.count * 330)
        out.append(UInt8(ascii: "["))
        for (n, r) in receipts.enumerated() {
            if n > 0 { out.append(UInt8(ascii: ",")) }
            let m = r.message
            let (code, description) = m.outcomeFields
            if m.api == .classic {
                out += ResponseEncoder.encode(
                    classicFields(r, code: code, description: description, dateOffsetSeconds: dateOffsetSeconds),
                    root: "",
                    format: .json
                )
                continue
            }
            let fields: [(String, ResponseValue)] = [
                ("To", .string(m.to)),
                ("Status", .string(m.receiptStatus ?? "2")),
                ("MessageId", .string(String(m.id))),
                ("TaskId", .string(m.taskId)),
                ("SmsSize", .string(String(m.segments))),
                (
                    "SendDate",
                    .string(AlibabaDate.rfc2822(ms: m.sentAtMs ?? m.createdAtMs, offsetSeconds: dateOffsetSeconds))
                ),
                (
                    "ReceiveDate",
                    .string(m.doneAtMs.map { AlibabaDate.rfc2822(ms: $0, offsetSeconds: dateOffsetSeconds) } ?? "")
                ),
                ("ErrorCode", .string(code)),
                ("ErrorDescription", .string(description)),
                ("ReportId", .string(String(r.id))),
            ]
            out += ResponseEncoder.encode(fields, root: "", format: .json)
        }
        out.append(UInt8(ascii: "]"))
        return out
    }

    /// A receipt of a message sent through dysmsapi 2017-05-25, in that version's SmsReport form (snake_case,
    /// `success` a boolean, times `yyyy-MM-dd HH:mm:ss`, `biz_id` as SendSms answered it, `out_id` its OutId).
    static func classicFields(
        _ r: OutboxReceipt,
        code: String,
        description: String,
        dateOffsetSeconds: Int
    ) -> [(String, ResponseValue)] {
        let m = r.message
        return [
            ("phone_number", .string(m.to)),
            (
                "send_time",
                .string(AlibabaDate.plain(ms: m.sentAtMs ?? m.createdAtMs, offsetSeconds: dateOffsetSeconds))
            ),
            (
                "report_time",
                .string(m.doneAtMs.map { AlibabaDate.plain(ms: $0, offsetSeconds: dateOffsetSeconds) } ?? "")
            ),
            ("success", .bool(m.status == .delivered)),
            ("err_code", .string(code)),
            ("err_msg", .string(description)),
            ("sms_size", .string(String(m.segments))),
            ("biz_id", .string("\(m.bizId)^0")),
            ("out_id", .string(m.taskId)),
            ("ReportId", .string(String(r.id))),
        ]
    }

    /// `X-Petrel-Signature`: `sha256=` and the hex HMAC-SHA256 of the body under the account's webhook secret.
    public static func signature(body: [UInt8], secret: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: Array(secret.utf8)))
        return "sha256=" + mac.map { String(format: "%02x", $0) }.joined()
    }

    /// Whether the receiver took the batch: HTTP 200 and a JSON object whose top-level `code` is 0 (Alibaba's
    /// contract), as a number or the string "0". The body is parsed, not searched: a `code` nested deeper (or in a
    /// string) says nothing about the batch.
    public static func accepted(status: Int, body: [UInt8]) -> Bool {
        guard status == 200, let ack = try? JSONDecoder().decode(Acknowledgement.self, from: Data(body)) else {
            return false
        }
        return ack.code.isZero
    }

    struct Acknowledgement: Decodable {
        let code: Code
    }

    enum Code: Decodable {
        case number(Int)
        case text(String)
        case other

        init(from decoder: any Decoder) throws {
            let c = try decoder.singleValueContainer()
            if (try? c.decode(Bool.self)) != nil {
                self = .other
            } else if let n = try? c.decode(Int.self) {
                self = .number(n)
            } else if let s = try? c.decode(String.self) {
                self = .text(s)
            } else {
                self = .other
            }
        }

        var isZero: Bool {
            switch self {
            case .number(let n): n == 0
            case .text(let s): s == "0"
            case .other: false
            }
        }
    }
}
