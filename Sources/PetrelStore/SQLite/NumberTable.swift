/// A hash table from a number's key (`SendMemory.numberKey`, never 0) to its sends: open addressing with linear
/// probing in one flat array of entries. With millions of numbers a lookup is one cache miss; Swift's Dictionary
/// keeps its occupancy bitmap, keys and values in three arrays (three misses) and hashes with SipHash, which cost the
/// accept under limits more than the rest of the check (issue 23's profile, docs/benchmarks.md).
///
/// Not thread-safe; a value type like the Dictionary it replaces (copy on write through the array).
struct NumberTable {
    struct Entry {
        /// 0: the slot is empty.
        var key: UInt64 = 0
        var sends = SendMemory.Sends(first: 0)
    }

    private var entries: [Entry] = []
    /// 64 - log2(entries.count): the hash's top bits pick the slot.
    private var shift: UInt64 = 64
    private(set) var count = 0

    var isEmpty: Bool { count == 0 }

    /// Fibonacci hashing: the key times 2^64/phi, top bits. Keys that differ in their last digits (numbers of one
    /// range) land far apart.
    private func home(_ key: UInt64) -> Int {
        Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> shift)
    }

    /// The slot holding `key`, or the empty slot where it would go (the table must not be empty).
    private func probe(_ key: UInt64) -> (index: Int, found: Bool) {
        let mask = entries.count - 1
        var i = home(key)
        while true {
            let k = entries[i].key
            if k == key { return (i, true) }
            if k == 0 { return (i, false) }
            i = (i + 1) & mask
        }
    }

    subscript(key: UInt64) -> SendMemory.Sends? {
        guard !entries.isEmpty else { return nil }
        let (i, found) = probe(key)
        return found ? entries[i].sends : nil
    }

    /// The key in `key`'s home slot: read only to bring that slot into the cache (see `SendMemory.prefetch`).
    func touch(_ key: UInt64) -> UInt64 {
        entries.isEmpty ? 0 : entries[home(key)].key
    }

    /// Reads, changes, adds or (setting nil) removes the sends of `key` with one probe.
    mutating func update<R>(_ key: UInt64, _ body: (inout SendMemory.Sends?) -> R) -> R {
        precondition(key != 0, "0 marks an empty slot")
        // Room first, so that the slot found stays valid: at most three quarters full. (Half full, which shortens
        // the walk of a number not held, measured no faster and held twice the memory.)
        if (count + 1) * 4 > entries.count * 3 { grow() }
        let (i, found) = probe(key)
        var value: SendMemory.Sends? = nil
        if found {
            // Moved out, so that a `more` array changed in `body` is uniquely referenced (no copy).
            value = entries[i].sends
            entries[i].sends = SendMemory.Sends(first: 0)
        }
        let result = body(&value)
        switch (found, value) {
        case (true, let v?): entries[i].sends = v
        case (false, let v?):
            entries[i] = Entry(key: key, sends: v)
            count += 1
        case (true, nil): remove(at: i)
        case (false, nil): break
        }
        return result
    }

    /// Empties slot `i` and shifts the entries after it back (no tombstones: probes stay short after sweeps).
    private mutating func remove(at index: Int) {
        let mask = entries.count - 1
        var hole = index
        var j = index
        entries[hole] = Entry()
        count -= 1
        while true {
            j = (j + 1) & mask
            let k = entries[j].key
            if k == 0 { return }
            // The entry at j may fill the hole unless its home lies cyclically in (hole, j].
            let h = home(k)
            let stays = hole <= j ? (h > hole && h <= j) : (h > hole || h <= j)
            if !stays {
                entries[hole] = entries[j]
                entries[j] = Entry()
                hole = j
            }
        }
    }

    private mutating func grow() {
        rebuild(capacityFor: max(count + 1, 6))
    }

    /// A new array sized for `n` entries (a power of two at least 8, at most half full after), holding the current
    /// ones: 32 to 64 bytes a number.
    private mutating func rebuild(capacityFor n: Int) {
        var size = 8
        while size < n * 2 { size <<= 1 }
        let old = entries
        entries = Array(repeating: Entry(), count: size)
        shift = UInt64(64 - size.trailingZeroBitCount)
        for e in old where e.key != 0 {
            let (i, _) = probe(e.key)
            entries[i] = e
        }
    }

    /// Keeps what `transform` returns for each entry (nil drops it); the array shrinks when most of it went.
    mutating func compactMapValues(_ transform: (SendMemory.Sends) -> SendMemory.Sends?) {
        var kept: [Entry] = []
        kept.reserveCapacity(count)
        for e in entries where e.key != 0 {
            if let s = transform(e.sends) { kept.append(Entry(key: e.key, sends: s)) }
        }
        count = kept.count
        guard !kept.isEmpty else {
            entries = []
            shift = 64
            return
        }
        entries = []
        rebuild(capacityFor: kept.count)
        for e in kept {
            let (i, _) = probe(e.key)
            entries[i] = e
        }
    }

    func eachEntry(_ body: (UInt64, SendMemory.Sends) -> Void) {
        for e in entries where e.key != 0 { body(e.key, e.sends) }
    }
}
