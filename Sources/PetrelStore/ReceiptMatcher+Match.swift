import PetrelCore

extension ReceiptMatcher {
    /// One receipt tried against stored ids in order until one names a message or a part, then applied to it.
    struct Match {
        enum Lookup: Equatable {
            case message(String)
            case part(String)
        }

        enum Outcome: Equatable {
            case finished(StatusUpdate)
            /// A known id, but nothing changes (a duplicate, or another part still pending).
            case matched
            case none
        }

        enum Next {
            case ask(Step)
            case outcome(Outcome)
        }

        private enum State {
            case looking(Lookup)
            case marking(StoredPart)
            case reading(StoredPart)
            case applying
        }

        let receipt: CarrierReceipt
        /// Lookups still to try, last first.
        private var tries: [Lookup]
        private var state: State?

        init(_ receipt: CarrierReceipt, _ tries: [Lookup]) {
            self.receipt = receipt
            self.tries = tries.reversed()
        }

        /// The single-part message or the part stored under the receipt's own (normalised) id.
        init(sameReading receipt: CarrierReceipt) {
            self.init(receipt, [.message(receipt.carrierId), .part(receipt.carrierId)])
        }

        mutating func begin() -> Next {
            guard let lookup = tries.popLast() else { return .outcome(.none) }
            state = .looking(lookup)
            switch lookup {
            case .message(let id): return .ask(.findMessage(channel: receipt.channel, storedID: id))
            case .part(let id): return .ask(.findPart(channel: receipt.channel, storedID: id))
            }
        }

        mutating func resume(_ answer: Answer) -> Next {
            switch (state, answer) {
            case (.looking(.message), .message(nil)), (.looking(.part), .part(nil)):
                return begin()
            case (.looking(.message), .message(let found?)):
                guard let status = found.status,
                    let change = ReceiptRules.change(receipt, messageId: found.id, from: status)
                else { return .outcome(.matched) }
                return apply(change)
            case (.looking(.part), .part(let part?)):
                state = .marking(part)
                return .ask(.markPart(part, receipt))
            case (.marking(let part), .marked(let changed)):
                guard changed else { return .outcome(.matched) }  // a duplicate receipt
                if part.total == 1 { return decide(part, [(receipt.status, receipt.errorCode)]) }  // decides alone
                state = .reading(part)
                return .ask(.readParts(messageId: part.messageId))
            case (.reading(let part), .parts(let states)):
                return decide(part, states)
            case (.applying, .applied(let update)):
                return .outcome(update.map { .finished($0) } ?? .matched)
            default:
                // A store answered another question than the one asked: a bug in its driver, never input.
                preconditionFailure("receipt matcher: answer \(answer) does not fit \(String(describing: state))")
            }
        }

        private mutating func decide(_ part: StoredPart, _ states: [(MessageStatus, String)]) -> Next {
            guard
                let decided = ReceiptRules.decide(
                    messageId: part.messageId,
                    parts: states,
                    total: part.total,
                    atMs: receipt.atMs
                )
            else { return .outcome(.matched) }
            return apply(decided)
        }

        private mutating func apply(_ update: StatusUpdate) -> Next {
            state = .applying
            return .ask(.apply(update))
        }
    }
}
