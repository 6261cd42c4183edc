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
        let from = r.From.trimmingCharacters(in: CharacterSet(charactersIn: "+ "))
        let to = r.To.trimmingCharacters(in: CharacterSet(charactersIn: "+ "))
        for (name, value) in [("From", from), ("To", to)]
        where value.isEmpty || value.count > 21 || !value.allSatisfy({ $0.isASCII && ($0.isNumber || $0.isLetter) }) {
            return SandboxRoutes.error(
                "InvalidParameter",
                "\(name) must be a phone number or a short code (up to 21 digits or letters).",
                .badRequest
            )
        }
        guard r.Text.count <= maxText,
            let parts = try? MessageParts.make(r.Text, mode: .udh, reference: .random(in: 0...255))
        else {
            return SandboxRoutes.error("InvalidParameter", "Text must have at most \(maxText) characters.", .badRequest)
        }
        let now = Int64((Date().timeIntervalSince1970 * 1000).rounded(.down))
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
            stored = await inbound.store(part) && stored
        }
        guard stored else {
            return SandboxRoutes.error(
                "ServiceUnavailable",
                "The message could not be stored; send it again.",
                .serviceUnavailable
            )
        }
        return SandboxRoutes.json(#"{"Parts":\#(parts.count)}"#)
    }
}
