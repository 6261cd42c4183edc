public import PetrelCore

/// The body of an inbound push: Alibaba's SmsUp format, a JSON array of objects with `phone_number`, `content`,
/// `send_time` (`yyyy-MM-dd HH:mm:ss` at the API's date offset), `dest_code` (the SmsUpExtendCode of the message it
/// replies to, else the number the phone wrote to) and
/// `sequence_id` (a number, stable across retries: receivers de-duplicate on it); then Petrel's own `account`,
/// `encoding` and `incomplete`.
public enum SmsUpReport {
    public static func body(_ messages: [InboundMessage], dateOffsetSeconds: Int) -> [UInt8] {
        var out: [UInt8] = [UInt8(ascii: "[")]
        out.reserveCapacity(messages.count * 220)
        for (n, m) in messages.enumerated() {
            if n > 0 { out.append(UInt8(ascii: ",")) }
            func field(_ name: String, _ value: String, first: Bool = false) {
                out.append(contentsOf: (first ? "{" : ",").utf8)
                ResponseEncoder.jsonString(name, into: &out)
                out.append(UInt8(ascii: ":"))
                ResponseEncoder.jsonString(value, into: &out)
            }
            field("phone_number", m.from, first: true)
            field("content", m.text)
            field("send_time", AlibabaDate.plain(ms: m.receivedAtMs, offsetSeconds: dateOffsetSeconds))
            // The reply's SmsUpExtendCode when the message it answers had one (Alibaba's meaning); else the number
            // the phone wrote to.
            field("dest_code", m.destCode.isEmpty ? m.to : m.destCode)
            out.append(contentsOf: #","sequence_id":\#(m.id)"#.utf8)
            field("account", m.account)
            field("encoding", m.encoding)
            out.append(contentsOf: #","incomplete":\#(m.incomplete)}"#.utf8)
        }
        out.append(UInt8(ascii: "]"))
        return out
    }
}
