/// A type-of-number / numbering-plan / address triple.
public struct Address: Sendable, Equatable {
    public var ton: UInt8
    public var npi: UInt8
    public var address: String

    public init(ton: UInt8 = 0, npi: UInt8 = 0, address: String = "") {
        self.ton = ton
        self.npi = npi
        self.address = address
    }

    /// An international number (TON 1, NPI 1, E.164 digits).
    public static func international(_ digits: String) -> Address { Address(ton: 1, npi: 1, address: digits) }
}
