import PetrelAPI

/// libFuzzer target: the JSON string arrays of `To` and `Message`. What parses must be strings only; nothing
/// may crash or hang.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJSONArrays(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let text = String(decoding: UnsafeRawBufferPointer(start: start, count: count), as: UTF8.self)
    if let items = JSONStringArray.parse(text) {
        precondition(items.count <= text.utf8.count, "more items than bytes")
    }
    return 0
}
