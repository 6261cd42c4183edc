import PetrelCore

/// libFuzzer target: the campaign CSV reader and the row checks behind a campaign preview (CSV.parse, then
/// CampaignPlan.build with a template that uses columns). Nothing may crash or hang; no record may have more
/// fields than the input has bytes.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCSV(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let text = String(decoding: UnsafeRawBufferPointer(start: start, count: count), as: UTF8.self)
    let records = CSV.parse(text)
    for r in records {
        precondition(r.fields.count <= text.utf8.count + 1, "more fields than bytes")
        precondition(r.line >= 1, "line numbers start at 1")
    }
    precondition(records.count <= text.utf8.count, "more records than bytes")
    if let plan = try? CampaignPlan.build(csv: text, text: "Hi ${name}, ${column2} ${number}") {
        precondition(plan.totalRows <= records.count, "more rows than records")
    }
    return 0
}
