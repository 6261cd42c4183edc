import Foundation
import Logging
import PetrelCore
import PetrelStore
import Synchronization
import Testing

@testable import PetrelDelivery

@Suite struct MessageRouterTests {
    typealias Route = MessageRouter.Route

    static func msg(_ id: Int64 = 1, to: String, type: MessageType = .notify, channel: String = "") -> Message {
        Message(id: id, account: "a", to: to, text: "hi", type: type, requestedChannel: channel, createdAtMs: 0)
    }

    let router = MessageRouter(routes: [
        Route(types: [.otp], channels: ["otp-fast"]),
        Route(prefixes: ["6591", "6598"], channels: ["sg-mobile", "sg-backup"]),
        Route(countries: ["HK"], channels: ["hk"]),
        Route(channelIds: ["vip"], channels: ["vip-1", "vip-2"]),
        Route(channels: ["default"]),
    ])

    @Test func withoutRoutesEverythingGoesToTheSandbox() {
        #expect(MessageRouter().channels(for: Self.msg(to: "6591234567")) == ["sandbox"])
    }

    @Test func theFirstMatchingRouteDecides() {
        #expect(router.channels(for: Self.msg(to: "6591234567")) == ["sg-mobile", "sg-backup"])
        #expect(router.channels(for: Self.msg(to: "6598765432")) == ["sg-mobile", "sg-backup"])
        #expect(router.channels(for: Self.msg(to: "6561234567")) == ["default"])  // no listed prefix
        // The OTP route comes first, whatever the number.
        #expect(router.channels(for: Self.msg(to: "6591234567", type: .otp)) == ["otp-fast"])
    }

    @Test func countriesComeFromTheNumber() {
        #expect(router.channels(for: Self.msg(to: "85291234567")) == ["hk"])
        #expect(router.channels(for: Self.msg(to: "85366123456")) == ["default"])  // Macau
        #expect(router.channels(for: Self.msg(to: "999")) == ["default"])  // no country at all
    }

    @Test func aRequestedChannelIdPicksARouteOrTheChannelItself() {
        #expect(router.channels(for: Self.msg(to: "85291234567", channel: "vip")) == ["hk"])  // HK matches first
        #expect(router.channels(for: Self.msg(to: "6561234567", channel: "vip")) == ["vip-1", "vip-2"])
        // A ChannelId no route lists names the channel to use.
        #expect(router.channels(for: Self.msg(to: "6591234567", channel: "direct")) == ["direct"])
    }

    @Test func noMatchingRouteMeansNoChannel() {
        let narrow = MessageRouter(routes: [Route(prefixes: ["65"], channels: ["sg"])])
        #expect(narrow.channels(for: Self.msg(to: "85291234567")).isEmpty)
    }

    /// A channel for the dispatcher that keeps what it is given and answers when the test says.
    final class HeldChannel: Channel {
        let id: String
        private let available: Atomic<Bool>
        let held = Mutex<[([Message], @Sendable ([(Message, SubmitOutcome)]) -> Void)]>([])

        init(_ id: String, available: Bool = true) {
            self.id = id
            self.available = Atomic(available)
        }

        var isAvailable: Bool { available.load(ordering: .relaxed) }
        var freeCapacity: Int { 100 }
        func setAvailable(_ up: Bool) { available.store(up, ordering: .relaxed) }

        func enqueue(
            _ messages: [Message],
            skipParts: [Int64: Set<Int>],
            nowMs: Int64,
            completion: @escaping @Sendable ([(Message, SubmitOutcome)]) -> Void
        ) {
            held.withLock { $0.append((messages, completion)) }
        }

        var heldIds: [Int64] { held.withLock { $0.flatMap { $0.0.map(\.id) } } }

        /// Answers every message held so far.
        func answerAll(_ outcome: SubmitOutcome) {
            for (messages, completion) in held.withLock({ h in
                defer { h.removeAll() }
                return h
            }) {
                completion(messages.map { ($0, outcome) })
            }
        }

        func shutdown() async {}
    }

    func withDispatcher(
        _ channels: [HeldChannel],
        routes: [Route],
        _ body: (Dispatcher) async throws -> Void
    ) async throws {
        let dir = FileManager.default.temporaryDirectory
            .appendingPathComponent("petrel-route-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = try SQLiteStore(directory: dir, secrets: try SecretBox(key: Array(repeating: 3, count: 32)))
        let dispatcher = Dispatcher(
            store: store,
            channels: channels,
            router: MessageRouter(routes: routes),
            logger: Logger(label: "test"),
            clock: { 1_000_000 }
        )
        do {
            try await body(dispatcher)
        } catch {
            try? await store.close()
            throw error
        }
        try await store.close()
    }

    @Test func aChannelThatIsDownIsPassedOver() async throws {
        let first = HeldChannel("first", available: false)
        let second = HeldChannel("second")
        try await withDispatcher([first, second], routes: [Route(channels: ["first", "second"])]) { d in
            let m = Self.msg(to: "6591234567")
            guard case .channel("second") = d.place(m, nowMs: 0, exclude: []) else {
                Issue.record("not placed on the second channel")
                return
            }
            second.setAvailable(false)
            guard case .wait = d.place(m, nowMs: 0, exclude: []) else {
                Issue.record("should wait for a channel of its route")
                return
            }
            let unknown = Self.msg(to: "6591234567", channel: "nowhere")
            guard case .done(let update) = d.place(unknown, nowMs: 0, exclude: []) else {
                Issue.record("an unknown channel should fail the message")
                return
            }
            #expect(update.errorCode == "NO_ROUTE")
        }
    }

    @Test func aRefusalTheCarrierMarksReroutableGoesToTheNextChannel() async throws {
        let first = HeldChannel("first")
        let second = HeldChannel("second")
        try await withDispatcher([first, second], routes: [Route(channels: ["first", "second"])]) { d in
            try await d.dispatch([Self.msg(7, to: "6591234567")], nowMs: 1_000_000)
            #expect(first.heldIds == [7] && second.heldIds.isEmpty)
            first.answerAll(.failed(code: "ESME_RINVDSTADR", description: "refused", reroute: true, accepted: []))
            try await d.recordReported()
            #expect(second.heldIds == [7])
            // Refused there too: no channel of the route is left to try, and the message is not handed over again.
            second.answerAll(.failed(code: "ESME_RINVDSTADR", description: "refused", reroute: true, accepted: []))
            try await d.recordReported()
            #expect(first.heldIds.isEmpty && second.heldIds.isEmpty)
        }
    }

    /// A message's page asks the dispatcher why a queued message waits; the answer is what this process sees now.
    @Test func theDispatcherSaysWhyAQueuedMessageWaits() async throws {
        let first = HeldChannel("hk-1", available: false)
        let second = HeldChannel("hk-2", available: false)
        try await withDispatcher([first, second], routes: [Route(prefixes: ["852"], channels: ["hk-1", "hk-2"])]) {
            d in
            let hk = Self.msg(1, to: "85291234567")
            #expect(d.waitReason(for: hk, nowMs: 1000) == "no channel of its route is bound (hk-1, hk-2)")
            #expect(
                d.waitReason(for: Self.msg(2, to: "6591234567"), nowMs: 1000) == "no configured channel can take it"
            )
            // Not due yet, or no longer queued: the store's answer stands.
            var later = hk
            later.notBeforeMs = 5000
            #expect(d.waitReason(for: later, nowMs: 1000) == nil)
            var sent = hk
            sent.status = .sent
            #expect(d.waitReason(for: sent, nowMs: 1000) == nil)
            // A bound channel with room: nothing holds it back.
            second.setAvailable(true)
            #expect(d.waitReason(for: hk, nowMs: 1000) == nil)
        }
    }
}
