extension Substring {
    /// Without leading and trailing spaces and tabs (CSV fields, placeholder names).
    var trimmingBlanks: String {
        let u = utf8
        func blank(_ b: UInt8) -> Bool { b == 32 || b == 9 }
        guard let f = u.first, let l = u.last, blank(f) || blank(l) else { return String(self) }
        guard let start = u.firstIndex(where: { !blank($0) }), let end = u.lastIndex(where: { !blank($0) }) else {
            return ""
        }
        return String(self[start...end])
    }
}

extension String {
    var trimmingBlanks: String { self[...].trimmingBlanks }
}
