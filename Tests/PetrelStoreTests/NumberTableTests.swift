import Testing

@testable import PetrelStore

/// `NumberTable` (the flat hash table under `SendMemory`) against Swift's Dictionary: the same contents after any
/// mix of adds, changes, removals and sweeps, including keys that share a home slot and removals that must shift
/// the entries after them back.
@Suite struct NumberTableTests {
    func sends(_ n: UInt64) -> SendMemory.Sends {
        SendMemory.Sends(first: n, more: n % 3 == 0 ? [n, n + 1] : [])
    }

    func same(_ table: NumberTable, _ model: [UInt64: SendMemory.Sends]) {
        #expect(table.count == model.count)
        var seen = 0
        table.eachEntry { key, s in
            seen += 1
            #expect(model[key]?.first == s.first && model[key]?.more == s.more)
        }
        #expect(seen == model.count)
        for (key, s) in model { #expect(table[key]?.first == s.first) }
    }

    @Test func agreesWithADictionaryThroughRandomChanges() {
        var rng = SystemRandomNumberGenerator()
        for round in 0..<20 {
            var table = NumberTable()
            var model: [UInt64: SendMemory.Sends] = [:]
            // Few distinct keys per round: removals, re-adds and probe chains collide often.
            let keys = (0..<(round < 10 ? 40 : 3000)).map { _ in UInt64.random(in: 1...(1 << 60), using: &rng) }
            for step in 0..<20000 {
                let key = keys.randomElement(using: &rng)!
                switch UInt8.random(in: 0..<10, using: &rng) {
                case 0..<5:
                    let s = sends(UInt64(step))
                    table.update(key) { $0 = s }
                    model[key] = s
                case 5..<8:
                    table.update(key) { $0 = nil }
                    model[key] = nil
                case 8:
                    let got: Bool = table.update(key) { v in
                        v?.more.append(7)
                        return v != nil
                    }
                    #expect(got == (model[key] != nil))
                    model[key]?.more.append(7)
                default:
                    #expect(table[key]?.first == model[key]?.first)
                }
                if step % 5000 == 4999 {
                    let cut = UInt64(step - 2500)
                    table.compactMapValues { $0.first > cut ? $0 : nil }
                    model = model.filter { $0.value.first > cut }
                }
            }
            same(table, model)
            for key in keys { #expect(table[key]?.first == model[key]?.first) }
        }
    }

    @Test func keysOfOneRangeAndRemovalsInsideAProbeChainStayFindable() {
        // Consecutive numbers of one range (how a campaign's recipients often look), half removed.
        var table = NumberTable()
        let keys = (0..<100_000).map { try! #require(SendMemory.numberKey("8529\(1_000_000 + $0)")) }
        for (i, key) in keys.enumerated() { table.update(key) { $0 = SendMemory.Sends(first: UInt64(i)) } }
        for (i, key) in keys.enumerated() where i % 2 == 0 { table.update(key) { $0 = nil } }
        #expect(table.count == 50_000)
        for (i, key) in keys.enumerated() {
            #expect(table[key]?.first == (i % 2 == 0 ? nil : UInt64(i)))
        }
        table.compactMapValues { _ in nil }
        #expect(table.isEmpty && table[keys[1]] == nil)
    }
}
