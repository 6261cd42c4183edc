import Foundation
import PetrelAPI

/// The signature test vectors in tests/vectors: requests the official SDKs signed (tests/vectors/generate.py).
struct Vector: Decodable {
    struct Request: Decodable {
        let method: String
        let target: String
        let headers: [[String]]
        let body: String
    }

    let name: String
    let secret: String
    let request: Request
    let signature: [String: AnyValue]

    func string(_ key: String) -> String? {
        if case .string(let s)? = signature[key] { return s }
        return nil
    }

    var rpcRequest: RPCRequest {
        let parts = request.target.split(separator: "?", maxSplits: 1)
        let headers = request.headers.map { (name: $0[0], value: $0[1]) }
        let host = headers.first { $0.name.lowercased() == "host" }?.value ?? ""
        return RPCRequest(
            method: request.method,
            path: String(parts[0]),
            query: parts.count > 1 ? String(parts[1]) : "",
            headers: headers.filter { $0.name.lowercased() != "host" },
            authority: host,
            body: Array(request.body.utf8)
        )
    }

    static func load(_ file: String) throws -> [Vector] {
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let url = repository.appendingPathComponent("tests/vectors/\(file)")
        return try JSONDecoder().decode([Vector].self, from: Data(contentsOf: url))
    }
}

enum AnyValue: Decodable {
    case string(String)
    case bool(Bool)
    case other

    init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let s = try? c.decode(String.self) {
            self = .string(s)
        } else if let b = try? c.decode(Bool.self) {
            self = .bool(b)
        } else {
            self = .other
        }
    }
}
