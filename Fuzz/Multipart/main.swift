/// libFuzzer target: the console's multipart/form-data parser (Multipart.swift here is a link to PetrelAPI's file, so
/// the target builds without PetrelAPI's dependencies). The first line is the Content-Type header, the rest
/// the body; the body is parsed whole and as a cut-short prefix (how the console reads a large upload's CSRF field).
/// nil answers are fine; crashes, hangs and quadratic time are not.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzMultipart(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let bytes = Array(UnsafeRawBufferPointer(start: start, count: count))
    let newline = bytes.firstIndex(of: 10) ?? bytes.count
    let header = String(decoding: bytes[..<newline], as: UTF8.self)
    let body = newline < bytes.count ? Array(bytes[(newline + 1)...]) : []
    guard case .some(.some(let boundary)) = Multipart.boundary(contentType: header) else { return 0 }
    for partial in [false, true] {
        for part in Multipart.parse(body, boundary: boundary, partial: partial) ?? [] {
            _ = part.text
            _ = part.filename
        }
    }
    return 0
}
