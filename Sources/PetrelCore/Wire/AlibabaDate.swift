/// Date formats of the Alibaba API.
public enum AlibabaDate {
    static let weekdays = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"]  // 1970-01-01 was a Thursday
    static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// `Mon, 24 Dec 2018 16:58:22 +0800`, the form of SendDate / ReceiveDate.
    public static func rfc2822(ms: Int64, offsetSeconds: Int) -> String {
        let local = ms / 1000 + Int64(offsetSeconds)
        let days = floorDiv(local, 86_400)
        let secs = local - days * 86_400
        let (y, m, d) = civil(days)
        let weekday = weekdays[Int(((days % 7) + 7) % 7)]
        let sign = offsetSeconds < 0 ? "-" : "+"
        let off = abs(offsetSeconds) / 60
        return
            "\(weekday), \(pad(d)) \(months[m - 1]) \(y) \(pad(Int(secs / 3600))):\(pad(Int(secs % 3600 / 60))):\(pad(Int(secs % 60))) \(sign)\(pad(off / 60))\(pad(off % 60))"
    }

    /// `2025-06-01T12:00:00Z`, the timestamp of both signature versions. Returns Unix seconds.
    public static func parseISO8601(_ text: some StringProtocol) -> Int64? {
        var text = String(text)
        return text.withUTF8(parseISO8601)
    }

    static func parseISO8601(_ b: UnsafeBufferPointer<UInt8>) -> Int64? {
        guard b.count == 20, b[4] == UInt8(ascii: "-"), b[7] == UInt8(ascii: "-"), b[10] == UInt8(ascii: "T"),
            b[13] == UInt8(ascii: ":"), b[16] == UInt8(ascii: ":"), b[19] == UInt8(ascii: "Z")
        else { return nil }
        func num(_ r: Range<Int>) -> Int? {
            var v = 0
            for i in r {
                guard b[i] >= UInt8(ascii: "0"), b[i] <= UInt8(ascii: "9") else { return nil }
                v = v * 10 + Int(b[i] - UInt8(ascii: "0"))
            }
            return v
        }
        guard let y = num(0..<4), let mo = num(5..<7), let d = num(8..<10), let h = num(11..<13),
            let mi = num(14..<16), let s = num(17..<19), (1...12).contains(mo), (1...31).contains(d), h < 24,
            mi < 60, s < 61
        else { return nil }
        return days(y, mo, d) * 86_400 + Int64(h * 3600 + mi * 60 + s)
    }

    public static func iso8601(seconds: Int64) -> String {
        let days = floorDiv(seconds, 86_400)
        let secs = seconds - days * 86_400
        let (y, m, d) = civil(days)
        return "\(y)-\(pad(m))-\(pad(d))T\(pad(Int(secs / 3600))):\(pad(Int(secs % 3600 / 60))):\(pad(Int(secs % 60)))Z"
    }

    static func pad(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }

    static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 { a >= 0 ? a / b : (a - b + 1) / b }

    /// Days since 1970-01-01 to (year, month, day); Howard Hinnant's civil_from_days.
    static func civil(_ z0: Int64) -> (Int, Int, Int) {
        let z = z0 + 719_468
        let era = floorDiv(z, 146_097)
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (Int(yoe + era * 400 + (m <= 2 ? 1 : 0)), Int(m), Int(d))
    }

    static func days(_ y0: Int, _ m: Int, _ d: Int) -> Int64 {
        let y = Int64(m <= 2 ? y0 - 1 : y0)
        let era = floorDiv(y, 400)
        let yoe = y - era * 400
        let mp = Int64(m > 2 ? m - 3 : m + 9)
        let doy = (153 * mp + 2) / 5 + Int64(d) - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }
}

/// The forms of dysmsapi 2017-05-25.
extension AlibabaDate {
    /// `2019-01-08 16:44:10`: SendDate / ReceiveDate of QuerySendDetails and SmsUp's send_time, in the zone `offsetSeconds` east of UTC.
    public static func plain(ms: Int64, offsetSeconds: Int) -> String {
        let local = floorDiv(ms, 1000) + Int64(offsetSeconds)
        let days = floorDiv(local, 86_400)
        let secs = local - days * 86_400
        let (y, m, d) = civil(days)
        return "\(y)-\(pad(m))-\(pad(d)) \(pad(Int(secs / 3600))):\(pad(Int(secs % 3600 / 60))):\(pad(Int(secs % 60)))"
    }

    /// `20190108` (yyyyMMdd, a calendar date that exists) as days since 1970-01-01; nil otherwise.
    public static func parseDay(_ text: some StringProtocol) -> Int64? {
        let b = Array(text.utf8)
        guard b.count == 8, b.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else { return nil }
        var v = 0
        for d in b { v = v * 10 + Int(d - UInt8(ascii: "0")) }
        let (y, m, d) = (v / 10000, v / 100 % 100, v % 100)
        guard y >= 1970, (1...12).contains(m), (1...31).contains(d) else { return nil }
        let day = days(y, m, d)
        // 20190231 would roll over into March: only dates that exist are accepted.
        guard civil(day) == (y, m, d) else { return nil }
        return day
    }

    /// `20190108`: the calendar day `days` since 1970-01-01.
    public static func day(_ days: Int64) -> String {
        let (y, m, d) = civil(days)
        return "\(y)\(pad(m))\(pad(d))"
    }
}
