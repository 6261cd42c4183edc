import Foundation
import Logging
import PetrelCore
import Synchronization
import Testing

@testable import PetrelServer

/// SIGHUP's reload of `limits:`: a valid file swaps them whole, an invalid one logs one error naming the key and
/// keeps the limits in force.
@Suite struct LimitsReloadTests {
    static func config(_ otpDay: String) -> String {
        """
        accounts: [{name: acme}]
        limits:
          perNumber: {OTP: {day: \(otpDay)}}
          caps: [{account: acme, day: 100}]
        """
    }

    @Test func aValidFileReplacesTheLimitsAndAnInvalidOneKeepsThem() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("petrel-reload-\(UUID()).yaml").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Self.config("3").write(toFile: path, atomically: true, encoding: .utf8)
        let c = try ServerConfiguration.load(path: path)
        #expect(c.configPath == path)
        let holder = LimitsHolder(c)
        let lines = Lines()
        let reload = LimitsReloader(
            path: path,
            holder: holder,
            logger: Logger(label: "test") { _ in Capture(lines: lines) }
        )
        #expect(holder.limits(account: "acme")?.perNumber.byType[.otp]?.day == 3)

        try Self.config("1").write(toFile: path, atomically: true, encoding: .utf8)
        #expect(reload.reload())
        #expect(holder.limits(account: "acme")?.perNumber.byType[.otp]?.day == 1)
        #expect(holder.caps == [SendCap(account: "acme", day: 100)])

        try Self.config("0").write(toFile: path, atomically: true, encoding: .utf8)
        #expect(!reload.reload())
        #expect(holder.limits(account: "acme")?.perNumber.byType[.otp]?.day == 1)
        let errors = lines.all.withLock { $0.filter { $0.0 == .error }.map(\.1) }
        #expect(errors.count == 1)
        #expect(errors.first?.contains("limits.perNumber.OTP.day") == true, "\(errors)")

        // Without limits: in the file, the reload takes them away.
        try "accounts: [{name: acme}]\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(reload.reload())
        #expect(holder.limits(account: "acme") == nil && holder.caps.isEmpty)
    }

    @Test func withoutAConfigFileThereIsNothingToReload() throws {
        let holder = LimitsHolder(ServerConfiguration())
        let reload = LimitsReloader(path: nil, holder: holder, logger: Logger(label: "test"))
        #expect(!reload.reload())
    }
}

private final class Lines: Sendable {
    let all = Mutex<[(Logger.Level, String)]>([])
}

private struct Capture: LogHandler {
    let lines: Lines
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        lines.all.withLock { $0.append((event.level, "\(event.message)")) }
    }
}
