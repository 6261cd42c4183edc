/// One deliver_sm (or data_sm) that is not a receipt, as a carrier sent it: a whole inbound message or one part of a
/// concatenated one, its user data without the header.
public struct InboundPart: Sendable, Equatable {
    /// Where a part sits in its message: (from, to, reference, total) ties the parts together, `seq` is 1-based.
    public struct Concat: Sendable, Equatable, Hashable {
        public var reference: Int
        public var total: Int
        public var seq: Int

        public init(reference: Int, total: Int, seq: Int) {
            self.reference = reference
            self.total = total
            self.seq = seq
        }
    }

    public var channel: String
    /// The phone that sent it.
    public var from: String
    /// The number it was sent to (ours).
    public var to: String
    public var dataCoding: UInt8
    public var body: [UInt8]
    public var concat: Concat?
    public var receivedAtMs: Int64
    /// The account `inbound:` gives its destination; nil: the store decides (the last account that sent to `from`
    /// within the reply window, else `default`).
    public var account: String?
    /// Set by a carrier that never resends (the sandbox): a number of its own per message, in the fingerprint, so
    /// that a phone sending the same text twice (a second "STOP") is two messages, not a duplicate.
    public var unique: UInt64?

    public init(
        channel: String,
        from: String,
        to: String,
        dataCoding: UInt8,
        body: [UInt8],
        concat: Concat? = nil,
        receivedAtMs: Int64,
        account: String? = nil
    ) {
        self.channel = channel
        self.from = from
        self.to = to
        self.dataCoding = dataCoding
        self.body = body
        self.concat = concat
        self.receivedAtMs = receivedAtMs
        self.account = account
    }

    /// Ties the parts of one message together ("" for a whole message). A part given an account (an access key's
    /// sandbox message, an `inbound:` number) joins only that account's parts: two keys' messages with one phone,
    /// number and reference were joined into one, the first key's, text and all.
    public var groupKey: String {
        guard let c = concat else { return "" }
        var key = "\(from)|\(to)|\(c.reference)|\(c.total)"
        if let account { key += "|\(account)" }
        // A sandbox message's parts join only each other (two long texts from one phone may draw one reference).
        if let unique { key += "|u\(unique)" }
        return key
    }

    /// The same part delivered again (a carrier resending after a lost deliver_sm_resp) has the same fingerprint:
    /// FNV-1a over every field that travelled and the account it was given, stable across processes and nodes (Swift's `Hasher` is not).
    public var fingerprint: Int64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        func mix(_ bytes: some Sequence<UInt8>) {
            for b in bytes {
                h ^= UInt64(b)
                h = h &* 0x0000_0100_0000_01b3
            }
            h ^= 0xFF
            h = h &* 0x0000_0100_0000_01b3
        }
        mix(from.utf8)
        mix(to.utf8)
        mix([dataCoding])
        if let c = concat { mix("\(c.reference)/\(c.total)/\(c.seq)".utf8) }
        mix(body)
        // One account's message does not make another's a duplicate.
        if let account { mix(account.utf8) }
        if let unique { withUnsafeBytes(of: unique.littleEndian) { mix($0) } }
        return Int64(bitPattern: h)
    }
}

/// An inbound message as stored: whole, or assembled from its parts.
public struct InboundMessage: Sendable, Equatable {
    public var id: Int64
    public var account: String
    public var from: String
    public var to: String
    public var text: String
    /// How `text` was read: gsm7, ascii, latin1, ucs2, or hex (the bytes could not be decoded; `text` is their hex).
    public var encoding: String
    public var parts: Int
    /// Some parts never came: delivered with what did, after the wait (or to keep pending parts bounded).
    public var incomplete: Bool
    public var channel: String
    public var receivedAtMs: Int64
    /// The `SmsUpExtendCode` of the message this one replies to (the last its account sent to `from`), "" for none:
    /// SmsUp's `dest_code`, as Alibaba pushes it.
    public var destCode: String

    public init(
        id: Int64,
        account: String,
        from: String,
        to: String,
        text: String,
        encoding: String,
        parts: Int,
        incomplete: Bool,
        channel: String,
        receivedAtMs: Int64,
        destCode: String = ""
    ) {
        self.id = id
        self.account = account
        self.from = from
        self.to = to
        self.text = text
        self.encoding = encoding
        self.parts = parts
        self.incomplete = incomplete
        self.channel = channel
        self.receivedAtMs = receivedAtMs
        self.destCode = destCode
    }
}
