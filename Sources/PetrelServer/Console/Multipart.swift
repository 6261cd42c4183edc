import Foundation
/// `multipart/form-data` bodies (RFC 7578), as browsers send a form with a file.
enum Multipart {
    struct Part {
        var name: String
        var filename: String?
        var data: ArraySlice<UInt8>
        var text: String { String(decoding: data, as: UTF8.self) }
    }

    /// The boundary named in a Content-Type header, if it is multipart/form-data.
    static func boundary(contentType: String) -> String? {
        guard contentType.lowercased().hasPrefix("multipart/form-data") else { return nil }
        for param in contentType.split(separator: ";").dropFirst() {
            let kv = param.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: CharacterSet(charactersIn: " \t")) }
            if kv.count == 2, kv[0].lowercased() == "boundary" { return kv[1].trimmingCharacters(in: CharacterSet(charactersIn: "\"")) }
        }
        return nil
    }

    static func parse(_ body: [UInt8], boundary: String) -> [Part]? {
        let delimiter = Array("--\(boundary)".utf8)
        var parts: [Part] = []
        guard var start = find(delimiter, in: body, from: 0) else { return nil }
        while true {
            var i = start + delimiter.count
            if body[i...].starts(with: Array("--".utf8)) { break }          // the closing delimiter
            guard body[i...].starts(with: [13, 10]) else { return nil }
            i += 2
            guard let headerEnd = find([13, 10, 13, 10], in: body, from: i) else { return nil }
            let headers = String(decoding: body[i..<headerEnd], as: UTF8.self)
            let dataStart = headerEnd + 4
            guard let next = find([13, 10] + delimiter, in: body, from: dataStart) else { return nil }
            var name = ""
            var filename: String?
            for line in headers.split(separator: "\r\n") where line.lowercased().hasPrefix("content-disposition:") {
                name = attribute("name", in: line) ?? ""
                filename = attribute("filename", in: line)
            }
            parts.append(Part(name: name, filename: filename, data: body[dataStart..<next]))
            start = next + 2
        }
        return parts
    }

    static func attribute(_ key: String, in line: Substring) -> String? {
        for piece in line.split(separator: ";") {
            let kv = piece.split(separator: "=", maxSplits: 1)
            if kv.count == 2, kv[0].trimmingCharacters(in: CharacterSet(charactersIn: " ")) == key {
                return kv[1].trimmingCharacters(in: CharacterSet(charactersIn: " ")).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
            }
        }
        return nil
    }

    static func find(_ needle: [UInt8], in hay: [UInt8], from: Int) -> Int? {
        guard let first = needle.first, hay.count >= needle.count else { return nil }
        var i = from
        let last = hay.count - needle.count
        while i <= last {
            if hay[i] == first, hay[i..<(i + needle.count)].elementsEqual(needle) { return i }
            i += 1
        }
        return nil
    }
}
