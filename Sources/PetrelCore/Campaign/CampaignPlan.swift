/// A campaign upload checked row by row before anything is sent: what the preview shows.
public struct CampaignPlan: Sendable {
    /// A valid row: its number and its CSV values. The text is filled in when the row is sent (`text(of:)`), so
    /// an upload is never multiplied by its template in memory or in the store.
    public struct Row: Sendable, Equatable {
        public var line: Int
        public var to: String
        public var fields: [String]
        public var segments: Int
    }

    public struct Invalid: Sendable, Equatable {
        public var line: Int
        public var number: String
        public var reason: String
        /// The row's values as uploaded, for the CSV of invalid rows (`invalidCSV`).
        public var fields: [String] = []

        /// `line 7: 12345: reason`, the form of the downloadable report.
        public var reportLine: String { "line \(line): \(number): \(reason)" }
    }

    public enum Problem: Error, Sendable, Equatable, CustomStringConvertible {
        case empty
        case emptyText
        case template(CampaignTemplate.Problem)

        public var description: String {
            switch self {
            case .empty: "The CSV holds no rows."
            case .emptyText: "The text is empty."
            case .template(let p): p.description
            }
        }
    }

    /// Column names: the header's, or `number` when the file starts with a number (no header).
    public var columns: [String]
    public var template: CampaignTemplate
    public var valid: [Row]
    public var invalid: [Invalid]
    /// UTF-8 bytes of every valid row's text once filled in: what the campaign will put in the store as messages.
    public var renderedBytes = 0

    /// A row's text, as it will be sent.
    public func text(of row: Row) -> String { template.render(row.fields) }
    /// Data rows in the file.
    public var totalRows: Int { valid.count + invalid.count }
    /// Total parts (segments) of the valid rows: what the campaign costs.
    public var parts: Int { valid.reduce(0) { $0 + $1.segments } }
    /// Valid rows by segment count.
    public var segmentsHistogram: [Int: Int] { valid.reduce(into: [:]) { $0[$1.segments, default: 0] += 1 } }

    static let numberColumns: Set<String> = [
        "number", "phone", "mobile", "to", "msisdn", "phonenumber", "phone_number",
    ]

    /// Reads `csv`, fills `text` in for every row and checks each: field count, number (numbering plan, no
    /// Chinese mainland), the account's `limits.countries` (`countries`), text length (`maxTextLength` encoded
    /// units, at most 255 parts), duplicates.
    public static func build(
        csv: String,
        text: String,
        maxTextLength: Int = 1600,
        countries: CountryRule? = nil
    ) throws(Problem) -> CampaignPlan {
        guard !text.isEmpty else { throw .emptyText }
        var records = CSV.parse(csv)
        // A file of invalid rows fixed and uploaded again: its values lose the apostrophe that kept a spreadsheet from
        // running them (`invalidCSV`). Only rows that have one are touched.
        for r in records.indices where records[r].fields.contains(where: { $0.utf8.first == UInt8(ascii: "'") }) {
            records[r].fields = records[r].fields.map(CSV.unguarded)
        }
        guard let first = records.first else { throw .empty }
        let columns: [String]
        var numberIndex = 0
        if case .success = PhoneNumber.parse(first.fields[0].trimmingBlanks) {
            columns = ["number"] + (first.fields.count > 1 ? (2...first.fields.count).map { "column\($0)" } : [])
        } else {
            columns = first.fields.map(\.trimmingBlanks)
            numberIndex = columns.firstIndex { numberColumns.contains($0.lowercased()) } ?? 0
            records.removeFirst()
        }
        let template: CampaignTemplate
        do { template = try CampaignTemplate(text, columns: columns) } catch { throw .template(error) }

        var plan = CampaignPlan(columns: columns, template: template, valid: [], invalid: [])
        plan.valid.reserveCapacity(records.count)
        var seen: [UInt64: Int] = [:]  // number → line, keyed by its value (cheaper to hash than its text)
        seen.reserveCapacity(records.count)
        let sameText = !template.usesColumns
        var sameTextSMS: SMSText?
        for record in records {
            let raw = numberIndex < record.fields.count ? record.fields[numberIndex].trimmingBlanks : ""
            // People write numbers with spaces, dashes, dots and brackets; the digits are what counts.
            let digits =
                raw.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") || $0 == UInt8(ascii: "+") })
                ? raw : raw.filter { !" -().\u{00A0}".contains($0) }
            func reject(_ reason: String) {
                plan.invalid.append(Invalid(line: record.line, number: raw, reason: reason, fields: record.fields))
            }
            if record.fields.count != columns.count {
                reject("has \(record.fields.count) fields; the header has \(columns.count)")
                continue
            }
            let number: PhoneNumber
            switch PhoneNumber.parse(digits) {
            case .success(let n): number = n
            case .failure(let e):
                reject(Self.reason(e))
                continue
            }
            if number.isChineseMainland {
                reject("numbers of the Chinese mainland (+86) cannot be sent to")
                continue
            }
            if let countries, !countries.permits(number.region) {
                reject("its country (\(number.region)) is not allowed by limits.countries")
                continue
            }
            let to = number.digits
            let key = UInt64(to) ?? 0
            if let earlier = seen[key] {
                reject("duplicate of line \(earlier)")
                continue
            }
            let body = template.render(record.fields)
            if body.utf8.allSatisfy({ $0 == 32 || $0 == 9 || $0 == 10 || $0 == 13 }) {
                reject("the text is empty for this row")
                continue
            }
            // Bounded by what the carrier sees (encoded units and parts), after the row's values are filled in.
            let sms = sameText ? sameTextSMS ?? SMSText(body) : SMSText(body)
            if sameText { sameTextSMS = sms }
            if let why = sms.lengthProblem(maxUnits: maxTextLength) {
                reject("the text is too long. \(why)")
                continue
            }
            seen[key] = record.line
            plan.renderedBytes += body.utf8.count
            plan.valid.append(Row(line: record.line, to: to, fields: record.fields, segments: sms.segments))
        }
        return plan
    }

    /// The invalid rows as a CSV to fix and upload again: the upload's header, then each row's values as they came
    /// and, in a last column (`error`, or `petrel_error` when the upload has an `error` column), why it was
    /// refused. Rows in file order. Empty when every row was valid. Opened in a spreadsheet, no value runs as a
    /// formula (`CSV.spreadsheetSafe`: "+85291234567" is written '+85291234567); the upload reads them back as they were.
    public var invalidCSV: String {
        guard !invalid.isEmpty else { return "" }
        let errorColumn = columns.contains("error") ? "petrel_error" : "error"
        func line(_ fields: [String]) -> String { CSV.line(fields.map(CSV.spreadsheetSafe)) }
        var lines = [line(columns + [errorColumn])]
        for row in invalid.sorted(by: { $0.line < $1.line }) { lines.append(line(row.fields + [row.reportLine])) }
        return lines.joined(separator: "\n")
    }

    static func reason(_ e: PhoneNumberError) -> String {
        switch e {
        case .invalidCharacters: "not a phone number (only digits, with an optional leading + or 00)"
        case .invalidLength: "wrong length for an international number"
        case .unknownCallingCode: "unknown country calling code"
        case .invalidNumber: "not a valid number in its country's numbering plan"
        }
    }
}
