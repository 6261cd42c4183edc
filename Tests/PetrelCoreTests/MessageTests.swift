import Testing

@testable import PetrelCore

@Suite struct MessageStatusTests {
    @Test func finalStatesNeverMove() {
        for final in MessageStatus.allCases where final.isFinal {
            for next in MessageStatus.allCases { #expect(!final.canMove(to: next)) }
        }
    }

    /// The SQLite receipt trigger selects final states as `status >= 3`; a new state must keep that true.
    @Test func finalStatesAreTheHighRawValues() {
        for status in MessageStatus.allCases { #expect(status.isFinal == (status.rawValue >= 3), "\(status)") }
    }

    @Test func forwardMoves() {
        #expect(MessageStatus.queued.canMove(to: .submitting))
        #expect(MessageStatus.submitting.canMove(to: .queued))
        #expect(MessageStatus.submitting.canMove(to: .sent))
        #expect(MessageStatus.sent.canMove(to: .delivered))
        #expect(!MessageStatus.sent.canMove(to: .queued))
        #expect(!MessageStatus.queued.canMove(to: .delivered))
    }

    @Test func apiStatusCodes() {
        #expect(MessageStatus.delivered.queryStatus == "1")
        #expect(MessageStatus.expired.queryStatus == "2")
        #expect(MessageStatus.sent.queryStatus == "3")
        #expect(MessageStatus.expired.receiptStatus == "6")
        #expect(MessageStatus.queued.receiptStatus == nil)
    }
}

@Suite struct MessageIDTests {
    @Test func uniqueAndIncreasing() {
        let gen = MessageIDGenerator(node: 3)
        let now: Int64 = 1_780_000_000_000
        let ids = gen.next(10_000, nowMs: now) + gen.next(5, nowMs: now) + gen.next(5, nowMs: now - 1000)
        #expect(Set(ids).count == ids.count)
        #expect(ids == ids.sorted())
        #expect(MessageIDGenerator.timestampMs(of: ids[0]) == now)
    }

    @Test func floorSurvivesClockGoingBack() {
        let first = MessageIDGenerator().next(1, nowMs: 1_780_000_000_000)[0]
        let restarted = MessageIDGenerator(floor: first)
        #expect(restarted.next(1, nowMs: 1_700_000_000_000)[0] > first)
    }

    /// Query dates become id ranges: firstId must never decrease or go negative, even for times no id holds
    /// (it wrapped past 2298-09-26 and made reversed ranges that trapped).
    @Test func firstIdNeverDecreases() {
        let wrap = MessageIDGenerator.epochMs + (1 << 43)
        let times: [Int64] = [
            .min, -86_400_000, 0, MessageIDGenerator.epochMs, 1_780_000_000_000, wrap - 1, wrap, wrap + 86_400_000,
            253_402_300_799_000, .max,
        ]
        let ids = times.map(MessageIDGenerator.firstId(atMs:))
        #expect(ids == ids.sorted())
        #expect(ids.allSatisfy { $0 >= 0 })
        #expect(ids[2] == 0 && ids[3] == 0)
        #expect(MessageIDGenerator.timestampMs(of: ids[4]) == 1_780_000_000_000)
    }
}

@Suite struct AlibabaDateTests {
    @Test func rfc2822() {
        // 2018-12-24T08:58:22Z
        let ms: Int64 = 1_545_641_902_000
        #expect(AlibabaDate.rfc2822(ms: ms, offsetSeconds: 8 * 3600) == "Mon, 24 Dec 2018 16:58:22 +0800")
        #expect(AlibabaDate.rfc2822(ms: ms, offsetSeconds: 0) == "Mon, 24 Dec 2018 08:58:22 +0000")
        #expect(AlibabaDate.rfc2822(ms: ms, offsetSeconds: -5 * 3600 - 1800) == "Mon, 24 Dec 2018 03:28:22 -0530")
    }

    @Test func iso8601() {
        #expect(AlibabaDate.parseISO8601("2018-12-24T08:58:22Z") == 1_545_641_902)
        #expect(AlibabaDate.iso8601(seconds: 1_545_641_902) == "2018-12-24T08:58:22Z")
        #expect(AlibabaDate.parseISO8601("2018-12-24 08:58:22") == nil)
        #expect(AlibabaDate.parseISO8601("2018-13-24T08:58:22Z") == nil)
        #expect(AlibabaDate.parseISO8601("2018-12-24T08:58:2xZ") == nil)
    }
}

@Suite struct TemplateTests {
    @Test func render() {
        #expect(
            Template.render("Code ${code}, hi ${ name }", values: ["code": "1234", "name": "Ann"])
                == .success("Code 1234, hi Ann")
        )
        #expect(Template.render("Code ${code}", values: [:]) == .failure(.missingValue("code")))
        #expect(Template.render("Code ${code}", values: ["code": ""]) == .failure(.missingValue("code")))
        #expect(Template.render("no vars", values: ["x": "y"]) == .success("no vars"))
        #expect(Template.variables(in: "${a} ${b} ${a}") == ["a", "b"])
    }

    /// Placeholders are found by bytes: a lone `$`, `$$`, a name in another script or padded with any white
    /// space, text after an unclosed `${`, and emoji around them all read as before.
    @Test func placeholdersAmongOtherText() {
        #expect(
            Template.render("验证码${码}，$5 $${ name\u{3000}}👍🏽${x", values: ["码": "1234", "name": "Ann"])
                == .success("验证码1234，$5 $Ann👍🏽${x")
        )
        #expect(Template.variables(in: "$ {a} ${\tb } ${} $") == ["b", ""])
        #expect(Template.render("${a}${b}$", values: ["a": "1", "b": "2"]) == .success("12$"))
    }
}

@Suite struct CarrierIDTests {
    @Test func normalisation() {
        #expect(CarrierID.normalize(" 000A1B ") == "a1b")
        #expect(CarrierID.normalize("0000") == "0")
        #expect(CarrierID.normalize("abc-DEF") == "abc-def")
        #expect(CarrierID.normalize("   ") == "")
        #expect(CarrierID.normalize("0") == "0")
        #expect(CarrierID.normalize("00É1") == "é1")
    }

    /// Issue 20 F10: a receipt id of 60,000 zeros held the SQLite writer for 18 s (quadratic zero stripping).
    /// 400,000 zeros took minutes before; one pass takes milliseconds, so a generous bound cannot flake.
    @Test func normalisationIsLinear() {
        let zeros = String(repeating: "0", count: 400_000)
        let started = ContinuousClock.now
        #expect(CarrierID.normalize(zeros) == "0")
        #expect(CarrierID.normalize(zeros + "12AB") == "12ab")
        #expect(ContinuousClock.now - started < .seconds(2))
    }

    @Test func idsLongerThanSixtyFourBytesAreRefused() {
        #expect(CarrierID.accepted(String(repeating: "7", count: 64)) == String(repeating: "7", count: 64))
        #expect(CarrierID.accepted(String(repeating: "7", count: 65)) == nil)
        #expect(CarrierID.accepted(String(repeating: "0", count: 60_000)) == nil)
        #expect(CarrierID.accepted(" 00AB") == "ab")
    }

    @Test func readings() {
        #expect(CarrierID.Reading.same.storedID("001A") == "1a")
        #expect(CarrierID.Reading.decimalForHex.storedID("26") == "1a")
        #expect(CarrierID.Reading.decimalForHex.storedID("1a") == nil)
        #expect(CarrierID.Reading.hexForDecimal.storedID("001A") == "26")
        #expect(CarrierID.Reading.hexForDecimal.storedID("msg-1") == nil)
    }
}
