import Foundation
import Crypto
import PetrelAPI
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
            let fields: [(String, ResponseValue)] = [
                ("To", .string(m.to)),
                ("Status", .string(m.receiptStatus ?? "2")),
                ("MessageId", .string(String(m.id))),
                ("TaskId", .string(m.taskId)),
                ("SmsSize", .string(String(m.segments))),
                ("SendDate", .string(AlibabaDate.rfc2822(ms: m.sentAtMs ?? m.createdAtMs, offsetSeconds: dateOffsetSeconds))),
                ("ReceiveDate", .string(m.doneAtMs.map { AlibabaDate.rfc2822(ms: $0, offsetSeconds: dateOffsetSeconds) } ?? "")),
                ("ErrorCode", .string(code)),
                ("ErrorDescription", .string(description)),
                ("ReportId", .string(String(r.id))),
            ]
            out += ResponseEncoder.encode(fields, root: "", format: .json)
        }
        out.append(UInt8(ascii: "]"))
        return out
    }

    /// `X-Petrel-Signature`: `sha256=` and the hex HMAC-SHA256 of the body under the account's webhook secret.
    public static func signature(body: [UInt8], secret: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: Array(secret.utf8)))
        return "sha256=" + mac.map { String(format: "%02x", $0) }.joined()
    }

    /// Whether the receiver took the batch: HTTP 200 and a JSON body whose `code` is 0 (Alibaba's contract).
    public static func accepted(status: Int, body: [UInt8]) -> Bool {
        guard status == 200 else { return false }
        // {"code":0,...}: find the "code" key and read its value; tolerate spaces and a string "0".
        let text = String(decoding: body, as: UTF8.self)
        guard let key = text.range(of: "\"code\"") else { return false }
        var rest = text[key.upperBound...].drop { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
        guard rest.first == ":" else { return false }
        rest = rest.dropFirst().drop { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
        if rest.hasPrefix("\"0\"") { return true }
        guard rest.hasPrefix("0") else { return false }
        let after = rest.dropFirst().first
        return after == nil || after == "," || after == "}" || after == " " || after == "\n" || after == "\r" || after == "\t"
    }
}
