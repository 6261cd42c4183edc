import PetrelCore
import PetrelDelivery
import Testing

@testable import PetrelServer

/// What `ServerConfiguration.parse` says of `yaml`: "accepted", or its error (the config suites' one helper).
func failure(_ yaml: String) -> String {
    do {
        _ = try ServerConfiguration.parse(yaml: yaml)
        return "accepted"
    } catch {
        return "\(error)"
    }
}

/// `petrel serve --config`: defaults, values, and errors that name the key.
@Suite struct ConfigurationTests {
    @Test func anEmptyFileGivesTheDefaults() throws {
        let c = try ServerConfiguration.parse(yaml: "")
        #expect(c.host == "127.0.0.1" && c.port == 8080 && c.dataDir == "./petrel-data" && c.store == nil)
        #expect(c.sandboxRetrospection == .authenticated && c.consoleEnabled && !c.consoleSecureCookies)
        #expect(c.consoleSessionIdleSeconds == 8 * 3600 && c.maxConnections == 4096 && c.dispatcherEnabled)
        #expect(c.routes.map(\.channels) == [["sandbox"]] && c.smppChannels.isEmpty && c.accounts.isEmpty)
        #expect(c.dateOffsetSeconds == 8 * 3600 && c.logFormat == .text && c.logLevel == "info")
        #expect(try ServerConfiguration.parse(yaml: "# nothing but a comment\n").port == 8080)
    }

    @Test func valuesAreRead() throws {
        let c = try ServerConfiguration.parse(
            yaml: """
                listen: "[::1]:9090"
                api: {dateOffset: "-05:30", throttling: {SendMessageToGlobe: 5}}
                sandbox: {retrospection: open}
                console: {enabled: "false", secureCookies: true, sessionIdleSeconds: 60}
                channels:
                  - {id: carrier, type: smpp, host: smsc.example, systemId: petrel, tps: 12.5, country: tw}
                routes:
                  - {channels: [carrier], match: {prefixes: ["65"], types: [OTP]}}
                """
        )
        #expect(c.smppChannels.first?.country == "TW")
        #expect(
            failure("channels: [{id: c, type: smpp, host: h, systemId: s, country: XX}]")
                .contains("channels[0].country must be a country code")
        )
        #expect(c.host == "::1" && c.port == 9090 && c.dateOffsetSeconds == -(5 * 3600 + 30 * 60))
        #expect(c.throttling == ["SendMessageToGlobe": 5] && c.sandboxRetrospection == .open)
        #expect(!c.consoleEnabled && c.consoleSecureCookies && c.consoleSessionIdleSeconds == 60)
        #expect(c.smppChannels.map(\.id) == ["carrier"] && c.smppChannels.first?.tps == 12.5)
        #expect(c.routes.count == 1 && c.routes.first?.channels == ["carrier"] && c.routes.first?.types == [.otp])
        #expect(try ServerConfiguration.parse(yaml: "listen: \":7000\"").host == "0.0.0.0")
    }

    @Test func anUnknownKeyIsRefusedByItsPath() {
        #expect(failure("lisen: 127.0.0.1:80") == "unknown config key lisen")
        #expect(failure("console: {maxUpload: 1024}") == "unknown config key console.maxUpload")
        #expect(
            failure("channels:\n  - {id: c, type: smpp, host: h, systemId: s, windw: 5}")
                == "unknown config key channels[0].windw"
        )
        #expect(
            failure("routes:\n  - {channels: [sandbox], match: {prefix: ['65']}}")
                == "unknown config key routes[0].match.prefix"
        )
    }

    @Test func aBadValueNamesItsKey() {
        #expect(
            failure("console: {sessionIdleSeconds: 5}")
                == "console.sessionIdleSeconds must be a whole number from 60 to 2592000"
        )
        #expect(failure("http: {maxConnections: lots}").hasPrefix("http.maxConnections must be a whole number"))
        #expect(failure("console: {enabled: maybe}") == "console.enabled must be true or false")
        #expect(failure("console: 3") == "console must be a mapping")
        #expect(failure("channels: {id: c}") == "channels must be a list")
        #expect(failure("sandbox: {retrospection: sometimes}").hasPrefix("sandbox.retrospection must be"))
        #expect(failure("api: {dateOffset: '+8'}") == "api.dateOffset must look like +08:00 or -05:30")
        #expect(failure("logLevel: loud").hasPrefix("logLevel must be one of"))
        #expect(failure("listen: nowhere") == "listen must be HOST:PORT, got nowhere")
        #expect(failure("channels:\n  - {id: c, type: smpp, host: h}") == "channels[0].systemId is required")
        #expect(
            failure("routes:\n  - {channels: [nowhere]}")
                == "routes[0].channels names nowhere, which is not a configured channel"
        )
        #expect(failure("accounts:\n  - {name: 'has space'}").hasPrefix("accounts[0].name must be"))
    }

    @Test func aFileThatIsNotAMappingIsRefused() {
        #expect(failure("- a\n- b") == "the config file must hold a mapping of keys at its top level")
        #expect(failure("a: [unclosed").hasPrefix("the config file is not valid YAML"))
    }
}
