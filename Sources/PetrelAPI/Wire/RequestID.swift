import Synchronization

/// RequestId values in UUID form (`F655A8D5-B967-440B-8683-DAD6FF8D28D3`), version 4 layout.
///
/// Foundation's `UUID()` opens /dev/urandom on every call on Linux; request ids need uniqueness, not secrecy,
/// so a per-process generator seeded once from the system's random source does the job without a syscall.
public enum RequestID {
    private static let state = Mutex<(UInt64, UInt64)>(
        (UInt64.random(in: .min ... .max), UInt64.random(in: .min ... .max))
    )
    private static let digits = Array("0123456789ABCDEF".utf8)

    public static func make() -> String {
        var (hi, lo) = state.withLock { s -> (UInt64, UInt64) in
            // xorshift128+
            var x = s.0
            let y = s.1
            s.0 = y
            x ^= x << 23
            s.1 = x ^ y ^ (x >> 17) ^ (y >> 26)
            return (s.1 &+ y, x &* 0x9E37_79B9_7F4A_7C15 ^ s.0)
        }
        hi = (hi & ~0xF000) | 0x4000
        lo = (lo & ~(0xC << 60)) | (0x8 << 60)
        var out = [UInt8](repeating: UInt8(ascii: "-"), count: 36)
        var index = 0
        for (word, shiftStart) in [(hi, 60), (lo, 60)] {
            var shift = shiftStart
            while shift >= 0 {
                if index == 8 || index == 13 || index == 18 || index == 23 { index += 1 }
                out[index] = digits[Int((word >> UInt64(shift)) & 0xF)]
                index += 1
                shift -= 4
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
