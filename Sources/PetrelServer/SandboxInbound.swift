import Foundation
import Hummingbird
import NIOCore
import PetrelCore
import PetrelDelivery
import PetrelSMPP

/// `POST /sandbox/inbound` `{"From": PHONE, "To": DEST, "Text": …}`: the sandbox carrier delivers a customer's
/// message as an SMSC would, as deliver_sm (one per part, UDH-concatenated when long) read by the same
/// `InboundPDU` into the same `InboundProcessor`. An access key's message belongs to its account; open mode's is
/// given one as a carrier's would be (`inbound:` numbers, the last sender, `default`).
enum SandboxInbound {
    struct Request: Decodable {
        var From: String
        var To: String
        var Text: String
    }

    /// Longest text taken (a concatenated message has at most 255 parts).
    static let maxText = 10_000

    static func deliver(_ body: ByteBuffer, account: String?, to inbound: InboundProcessor) async -> Response {
        guard let r = try? JSONDecoder().decode(Request.self, from: Data(body.readableBytesView)) else {
            return SandboxRoutes.error(
                "InvalidParameter",
                #"The body must be JSON: {"From": "85291234567", "To": "85260001234", "Text": "..."}."#,
                .badRequest
            )
        }
        switch await deliver(from: r.From, to: r.To, text: r.Text, account: account, inbound: inbound) {
        case .success(let parts): return SandboxRoutes.json(#"{"Parts":\#(parts)}"#)
        case .failure(let f): return SandboxRoutes.error(f.code, f.message, f.status)
        }
    }

    struct Failure: Error {
        var code: String
        var message: String
        var status: HTTPResponse.Status
    }

    /// The message from `from` to `to`, as deliver_sm parts stored by `inbound`; how many parts it took. The console's
    /// reply box comes here too.
    static func deliver(
        from rawFrom: String,
        to rawTo: String,
        text: String,
        account: String?,
        inbound: InboundProcessor
    ) async -> Result<Int, Failure> {
        let from = rawFrom.trimmingCharacters(in: CharacterSet(charactersIn: "+ "))
        let to = rawTo.trimmingCharacters(in: CharacterSet(charactersIn: "+ "))
        for (name, value) in [("From", from), ("To", to)]
        where value.isEmpty || value.count > 21 || !value.allSatisfy({ $0.isASCII && ($0.isNumber || $0.isLetter) }) {
            return .failure(
                Failure(
                    code: "InvalidParameter",
                    message: "\(name) must be a phone number or a short code (up to 21 digits or letters).",
                    status: .badRequest
                )
            )
        }
        guard text.count <= maxText,
            let parts = try? MessageParts.make(text, mode: .udh, reference: .random(in: 0...255))
        else {
            return .failure(
                Failure(
                    code: "InvalidParameter",
                    message: "Text must have at most \(maxText) characters.",
                    status: .badRequest
                )
            )
        }
        let now = Int64((Date().timeIntervalSince1970 * 1000).rounded(.down))
        // The sandbox never resends: the same text from the same phone again is another message.
        let unique = UInt64.random(in: .min ... .max)
        var stored = true
        for (n, p) in parts.enumerated() {
            let pdu = PDU(
                .deliverSm(
                    ShortMessage(
                        source: .international(from),
                        destination: .international(to),
                        esmClass: p.esmClass,
                        dataCoding: p.dataCoding,
                        shortMessage: p.shortMessage,
                        tlvs: p.tlvs
                    )
                ),
                sequence: UInt32(truncatingIfNeeded: n + 1)
            )
            guard var part = InboundPDU.part(pdu, channel: "sandbox", nowMs: now) else { continue }
            part.account = account
            part.unique = unique
            stored = await inbound.store(part) && stored
        }
        guard stored else {
            return .failure(
                Failure(
                    code: "ServiceUnavailable",
                    message: "The message could not be stored; send it again.",
                    status: .serviceUnavailable
                )
            )
        }
        return .success(parts.count)
    }
}
