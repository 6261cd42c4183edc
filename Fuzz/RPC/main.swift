import PetrelAPI

/// libFuzzer target: form decoding, the V3 Authorization header and signature canonicalisation, and the V1
/// string to sign, on arbitrary text. Errors are fine; crashes and hangs are not.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRPC(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: start, count: count)
    let text = String(decoding: bytes, as: UTF8.self)
    // Split the input in three: query, one header value, body.
    let parts = text.split(separator: "\n", maxSplits: 2, omittingEmptySubsequences: false).map(String.init)
    let query = parts.first ?? ""
    let header = parts.count > 1 ? parts[1] : ""
    let body = parts.count > 2 ? Array(parts[2].utf8) : []
    let pairs = (try? FormEncoding.decode(query)) ?? []
    _ = FormEncoding.canonicalQuery(pairs)
    let auth = SignatureV3.parseAuthorization(header)
    let request = RPCRequest(
        method: "POST",
        query: query,
        headers: [
            (name: "Authorization", value: header), (name: "x-acs-date", value: header), (name: "Host", value: "h"),
        ],
        authority: "h",
        body: body
    )
    let canonical = SignatureV3.canonicalRequest(
        request,
        queryPairs: pairs,
        signedHeaders: auth?.signedHeaders ?? ["host", "x-acs-date"],
        payloadHash: SignatureV3.payloadHash(body)
    )
    _ = SignatureV3.stringToSign(canonicalRequest: canonical)
    _ = SignatureV1.stringToSign(method: "GET", parameters: pairs)
    return 0
}
