import Foundation
public import Logging
import PetrelCore

/// One JSON object per log line, for log shippers: `{"ts":…,"level":…,"label":…,"msg":…,"source":…, metadata…}`.
/// Metadata keys (RequestId, action, channel, error…) become top-level fields. Writes go to stderr whole, one
/// write per line, so lines from different threads never interleave.
public struct JSONLogHandler: LogHandler {
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    let label: String

    public init(label: String) {
        self.label = label
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var fields: [(String, ResponseValue)] = [
            ("ts", .string(Self.timestamp())), ("level", .string(event.level.rawValue)), ("label", .string(label)),
            ("msg", .string("\(event.message)")), ("source", .string(event.source)),
        ]
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { _, new in new } }
        if let extra = event.metadata { merged.merge(extra) { _, new in new } }
        for key in merged.keys.sorted() where !["ts", "level", "label", "msg", "source"].contains(key) {
            fields.append((key, .string("\(merged[key]!)")))
        }
        var line = ResponseEncoder.encode(fields, root: "", format: .json)
        line.append(UInt8(ascii: "\n"))
        line.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = write(2, raw.baseAddress! + offset, raw.count - offset)
                if n <= 0 { break }
                offset += n
            }
        }
    }

    static func timestamp() -> String {
        let now = Date().timeIntervalSince1970
        let ms = Int64((now * 1000).rounded(.down))
        let iso = AlibabaDate.iso8601(seconds: ms / 1000)
        return String(iso.dropLast()) + String(format: ".%03dZ", Int(ms % 1000))
    }
}

/// Log output chosen at startup: `text` (swift-log's default) or `json`.
public enum LogFormat: String, Sendable, CaseIterable {
    case text, json

    /// Installs the format process-wide; call once, before the first logger is made.
    public func bootstrap() {
        switch self {
        case .text: break
        case .json: LoggingSystem.bootstrap { JSONLogHandler(label: $0) }
        }
    }
}
