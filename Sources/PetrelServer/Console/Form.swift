import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import PetrelAPI

/// A POSTed form: url-encoded fields, or multipart fields with files.
struct Form: Sendable {
    var fields: [String: String] = [:]
    var files: [String: (filename: String, data: [UInt8])] = [:]

    subscript(_ name: String) -> String? { fields[name] }

    enum Read {
        case form(Form)
        case tooLarge
        case malformed(String)
        /// `allowed` refused the first bytes of a large body (a wrong or missing CSRF token).
        case refused
    }

    /// Reads the body, at most `limit` bytes. A body longer than `checkAfter` is read on only once `allowed`
    /// accepted the form its first bytes make (every console form has its CSRF field first), so a request
    /// without the token costs no more than `checkAfter` bytes.
    static func read(
        _ request: Request,
        limit: Int,
        checkAfter: Int = .max,
        allowed: (Form) -> Bool = { _ in true }
    ) async -> Read {
        let type = request.headers[.contentType] ?? ""
        if let declared = request.headers[.contentLength].flatMap({ Int($0) }), declared > limit { return .tooLarge }
        var bytes: [UInt8] = []
        var checked = false
        do {
            for try await chunk in request.body {
                guard chunk.readableBytes <= limit - bytes.count else { return .tooLarge }
                bytes += chunk.readableBytesView
                if !checked, bytes.count > checkAfter {
                    guard let prefix = try? parse(bytes, type: type, partial: true), allowed(prefix) else {
                        return .refused
                    }
                    checked = true
                }
            }
        } catch {
            return .malformed("the request body could not be read")
        }
        do {
            return .form(try parse(bytes, type: type, partial: false))
        } catch {
            return .malformed(error.description)
        }
    }

    struct Malformed: Error, CustomStringConvertible {
        let description: String
    }

    /// `partial`: `bytes` is the start of a longer body; only the fields complete in it are returned.
    static func parse(_ bytes: [UInt8], type: String, partial: Bool) throws(Malformed) -> Form {
        var form = Form()
        if let boundary = Multipart.boundary(contentType: type) {
            guard let boundary else {
                let max = Multipart.maxBoundaryLength
                throw Malformed(description: "multipart/form-data needs a boundary of 1 to \(max) characters")
            }
            guard let parts = Multipart.parse(bytes, boundary: boundary, partial: partial) else {
                let max = Multipart.maxParts
                throw Malformed(description: "malformed multipart/form-data body (or more than \(max) parts)")
            }
            for part in parts {
                if let name = part.filename {
                    form.files[part.name] = (name, Array(part.data))
                } else {
                    form.fields[part.name] = part.text
                }
            }
        } else if type.lowercased().hasPrefix("application/x-www-form-urlencoded") {
            var text = String(decoding: bytes, as: UTF8.self)
            if partial { text = String(text[..<(text.lastIndex(of: "&") ?? text.startIndex)]) }
            for (k, v) in (try? FormEncoding.decode(text)) ?? [] where form.fields[k] == nil {
                form.fields[k] = v
            }
        } else {
            form.files["body"] = ("body", bytes)
        }
        return form
    }
}
