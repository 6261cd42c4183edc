import PetrelAPI
import Testing

@testable import PetrelServer

/// `api.approval`, `api.maxSignsPerAccount`, `api.maxTemplatesPerAccount` (dysmsapi 2017-05-25's signs and templates).
@Suite struct SignConfigurationTests {
    @Test func defaultsApproveAtOnce() throws {
        let c = try ServerConfiguration.parse(yaml: "")
        #expect(
            c.signs == SignSettings(manualApproval: false, maxSignsPerAccount: 1000, maxTemplatesPerAccount: 10_000)
        )
    }

    @Test func manualApprovalAndCaps() throws {
        let c = try ServerConfiguration.parse(
            yaml: """
                api:
                  approval: manual
                  maxSignsPerAccount: 5
                  maxTemplatesPerAccount: 0
                """
        )
        #expect(c.signs == SignSettings(manualApproval: true, maxSignsPerAccount: 5, maxTemplatesPerAccount: 0))
    }

    @Test(arguments: [
        ("api: {approval: later}", "api.approval must be auto or manual"),
        ("api: {approval: Manual}", "api.approval must be auto or manual"),
        ("api: {maxSignsPerAccount: -1}", "api.maxSignsPerAccount"),
        ("api: {maxTemplatesPerAccount: 2000000}", "api.maxTemplatesPerAccount"),
    ])
    func badValuesNameTheirKey(yaml: String, expected: String) {
        #expect {
            try ServerConfiguration.parse(yaml: yaml)
        } throws: { error in
            String(describing: error).contains(expected)
        }
    }
}
