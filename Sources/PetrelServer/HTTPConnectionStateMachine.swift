import NIOCore
import PetrelAPI

/// One HTTP connection at the door, without I/O: `HTTPDoor` feeds it events (bytes, answers written, writability,
/// half-close, quiesce, clock ticks) and does what the returned `Action` says.
///
/// A connection starts `fast`: plain RPC requests are parsed from the held bytes (`RPCRequestFront`) and served one
/// at a time, in order. The first request of another shape turns it `passing` for good: its bytes and all that
/// follow go to NIOHTTP1's decoder and Hummingbird, and `RequestFramer` follows them so the same deadlines apply.
///
/// Deadlines, on every route: a request's head must arrive within `head` of its first byte, its body within
/// `body` of the head's end, and a client that sends nothing for `idle` while a request is open, or leaves the
/// connection unused for `idle`, is closed. Nothing times out while an answer is owed.
///
/// Backpressure: while the socket is not writable or `maxQueuedAnswers` answers wait for it, no further request is
/// served and nothing more is read; while one is served, at most `maxHeld` bytes of later requests are read ahead.
/// Memory per connection is then bounded by a request (head and body limits) plus the write buffer's high mark.
struct HTTPConnectionStateMachine {
    struct Configuration: Sendable {
        var maxHead: Int
        var maxBody: Int
        var headTimeout: TimeAmount
        var bodyTimeout: TimeAmount
        var idleTimeout: TimeAmount
        var maxQueuedAnswers = 4
        var maxHeld = 64 * 1024
    }

    enum Action {
        case none
        /// Hand this request to the gateway; answer it with `answering()` / `answered(now:)` around the write.
        case serve(RPCRequest)
        /// A plain RPC request whose body was over the limit (skipped, not held): answer 413.
        case answerTooLarge
        /// To the general decoder (the connection is passing).
        case forward(ByteBuffer)
        /// Pass the event that caused this on (passing: Hummingbird has the connection).
        case passEvent
        case close
    }

    private enum Fast {
        /// No request of ours in flight.
        case waiting
        /// Handed to the gateway, answer not yet written.
        case serving
        /// An oversized body being read past; a 413 follows.
        case skipping(remaining: Int)
    }

    private enum Mode {
        case fast(Fast)
        case passing
        /// Over the connection limit: a 503 went out; input is dropped until it closes.
        case refused(since: NIODeadline)
        case closed
    }

    let configuration: Configuration
    private var mode = Mode.fast(.waiting)
    private var held: ByteBuffer?
    private var framer = RequestFramer()
    /// Requests given to Hummingbird whose response has not ended.
    private var outstanding = 0
    /// First byte of the request being read (nil: none started).
    private var requestStart: NIODeadline?
    /// End of the head of the request being read (its body's clock).
    private var bodyStart: NIODeadline?
    private var lastInput: NIODeadline
    private var lastActivity: NIODeadline
    private var keepAlive = true
    private var inputClosed = false
    /// Hummingbird was told the input ended (only once every held request has gone to it).
    private var inputClosedPassed = false
    private var quiescing = false
    private var writable = true
    private var queuedAnswers = 0
    /// Where the search for the end of the held request's head resumes (bytes before it hold no end).
    private var headResume = 0
    /// Bytes the held request needs in all (head and Content-Length body), once its head is in: no parsing before.
    private var needed = 0
    private var readPending = false

    init(configuration: Configuration, now: NIODeadline) {
        self.configuration = configuration
        self.lastInput = now
        self.lastActivity = now
    }

    // MARK: input

    mutating func read(_ bytes: ByteBuffer, now: NIODeadline) -> Action {
        lastInput = now
        lastActivity = now
        switch mode {
        case .refused, .closed:
            return .none
        case .passing:
            hold(bytes)
            return pass(now: now)
        case .fast:
            if requestStart == nil { requestStart = now }
            hold(bytes)
            return next(now: now)
        }
    }

    /// The peer shut its side (half-close): what was sent is still answered, then the connection closes.
    mutating func inputClosed(now: NIODeadline) -> Action {
        inputClosed = true
        switch mode {
        case .passing:
            guard held == nil else { return .none }  // held requests go to Hummingbird first
            inputClosedPassed = true
            return .passEvent
        case .refused, .closed: return close()
        case .fast(.serving): return .none  // `answered` closes once nothing is left
        case .fast(.skipping): return close()
        case .fast(.waiting): return settle(next(now: now))
        }
    }

    /// Graceful shutdown: idle connections close now, busy ones after their answer.
    mutating func quiesce() -> Action {
        quiescing = true
        switch mode {
        case .passing: return .passEvent
        case .fast(.serving): return .none
        case .fast, .refused, .closed: return close()
        }
    }

    // MARK: answers

    /// Just before an answer of ours is written: whether the connection closes after it.
    func answering() -> Bool { !keepAlive || quiescing }

    mutating func answerQueued() { queuedAnswers += 1 }

    /// The socket took a queued answer.
    mutating func answerFlushed(now: NIODeadline) -> Action {
        queuedAnswers -= 1
        return resume(now: now)
    }

    /// An answer of ours was written (and the connection stays open): the next held request may go.
    mutating func answered(now: NIODeadline) -> Action {
        guard case .fast(.serving) = mode else { return .none }
        lastActivity = now
        mode = .fast(.waiting)
        if held != nil, requestStart == nil { requestStart = now }
        return settle(next(now: now))
    }

    /// After bytes went to Hummingbird: whether to tell it now that the input ended (it answers what it has and
    /// closes), which waits until no request is held back here.
    mutating func takeInputClosed() -> Bool {
        guard inputClosed, !inputClosedPassed, case .passing = mode, held == nil else { return false }
        inputClosedPassed = true
        return true
    }

    mutating func writabilityChanged(_ writable: Bool, now: NIODeadline) -> Action {
        self.writable = writable
        return resume(now: now)
    }

    /// A response head from Hummingbird went out: a request body of unknown length is over.
    mutating func responseHead(status: Int, now: NIODeadline) {
        lastActivity = now
        guard status >= 200, framer.progress == .unknownBody else { return }
        framer.responseStarted()
        bodyStart = nil
    }

    /// A response from Hummingbird ended: the next request held back may go to it.
    mutating func responseEnd(now: NIODeadline) -> Action {
        lastActivity = now
        outstanding = max(0, outstanding - 1)
        guard case .passing = mode else { return .none }
        return pass(now: now)
    }

    // MARK: reading

    /// The pipeline asks for a read: whether to pass it on now (otherwise it is passed on when allowed).
    mutating func readRequested() -> Bool {
        if mayRead { return true }
        readPending = true
        return false
    }

    /// A withheld read that may go now (asked after every event).
    mutating func takePendingRead() -> Bool {
        guard readPending, mayRead else { return false }
        readPending = false
        return true
    }

    private var mayRead: Bool {
        guard writable, queuedAnswers < configuration.maxQueuedAnswers else { return false }
        switch mode {
        case .fast(.serving), .passing: return (held?.readableBytes ?? 0) < configuration.maxHeld
        case .closed: return false
        default: return true
        }
    }

    // MARK: connection limit

    /// Over the connection limit: the 503 is written, the connection closes after it (or at input's end).
    mutating func refuse(now: NIODeadline) {
        held = nil
        mode = .refused(since: now)
    }

    // MARK: deadlines

    mutating func tick(now: NIODeadline) -> Action {
        let c = configuration
        switch mode {
        case .closed, .fast(.serving):
            return .none
        case .refused(let since):
            return now - since >= .seconds(1) ? close() : .none
        case .fast(.waiting), .fast(.skipping), .passing:
            break
        }
        if let start = bodyStart {
            if now - start >= c.bodyTimeout || now - lastInput >= c.idleTimeout { return close() }
        } else if let start = requestStart {
            if now - start >= c.headTimeout || now - lastInput >= c.idleTimeout { return close() }
        } else if case .passing = mode, outstanding > 0 {
            return .none  // Hummingbird owes an answer (later requests wait)
        } else if now - lastActivity >= c.idleTimeout {
            return close()
        }
        return .none
    }

    // MARK: private

    private mutating func close() -> Action {
        mode = .closed
        held = nil
        return .close
    }

    private var canServe: Bool { writable && queuedAnswers < configuration.maxQueuedAnswers }

    private mutating func resume(now: NIODeadline) -> Action {
        guard case .fast(.waiting) = mode, held != nil else { return .none }
        return settle(next(now: now))
    }

    /// After input ended, a connection with nothing left to answer closes (what is held can never complete).
    private mutating func settle(_ action: Action) -> Action {
        guard case .none = action, inputClosed, case .fast(.waiting) = mode, canServe else { return action }
        return close()
    }

    /// The next step for the held bytes while nothing of ours is in flight.
    private mutating func next(now: NIODeadline) -> Action {
        guard var bytes = held else { return .none }
        if case .fast(.skipping(let remaining)) = mode {
            let n = min(remaining, bytes.readableBytes)
            bytes.moveReaderIndex(forwardBy: n)
            held = bytes.readableBytes > 0 ? bytes : nil
            guard n == remaining else {
                mode = .fast(.skipping(remaining: remaining - n))
                return .none
            }
            return startServing(now: now, then: .answerTooLarge)
        }
        guard case .fast(.waiting) = mode, canServe else { return .none }
        let c = configuration
        // A request that arrives in many small reads is parsed once it can be whole, not on every read: the head is
        // searched from where the last search stopped, and a body is awaited by its length.
        if bytes.readableBytes < needed { return .none }
        if needed == 0 {
            let scan = RPCRequestFront.findHeadEnd(bytes, from: headResume, maxHead: c.maxHead)
            guard scan.done else {
                headResume = scan.resume
                return .none
            }
        }
        switch RPCRequestFront.parse(bytes, maxHead: c.maxHead, maxBody: c.maxBody) {
        case .incomplete:
            if bodyStart == nil, RPCRequestFront.headComplete(bytes, maxHead: c.maxHead) { bodyStart = now }
            needed = RPCRequestFront.oversized(bytes, maxHead: c.maxHead, maxBody: 0)?.length ?? 0
            return .none
        case .request(let parsed):
            headResume = 0
            needed = 0
            bytes.moveReaderIndex(forwardBy: parsed.length)
            held = bytes.readableBytes > 0 ? bytes : nil
            keepAlive = keepAlive && parsed.keepAlive
            return startServing(now: now, then: .serve(parsed.request))
        case .general:
            headResume = 0
            needed = 0
            if let over = RPCRequestFront.oversized(bytes, maxHead: c.maxHead, maxBody: c.maxBody) {
                keepAlive = keepAlive && over.keepAlive
                bodyStart = now
                mode = .fast(.skipping(remaining: over.length))
                return next(now: now)
            }
            mode = .passing
            return pass(now: now)
        }
    }

    private mutating func startServing(now: NIODeadline, then action: Action) -> Action {
        mode = .fast(.serving)
        bodyStart = nil
        requestStart = held == nil ? nil : now  // the next request's bytes are here: its clock starts
        return action
    }

    private mutating func hold(_ bytes: ByteBuffer) {
        guard var h = held else {
            held = bytes
            return
        }
        held = nil  // one reference, so the append does not copy
        var more = bytes
        h.writeBuffer(&more)
        held = h
    }

    /// Hands Hummingbird the held bytes of the request being read; a later request waits for the response to the
    /// one before (answers stay in order, and a client cannot queue up work by pipelining).
    private mutating func pass(now: NIODeadline) -> Action {
        var out: ByteBuffer?
        while var bytes = held, !(framer.betweenRequests && outstanding > 0) {
            if framer.betweenRequests { requestStart = now }
            let step = bytes.withUnsafeReadableBytes { framer.feed($0) }
            if step.headEnded {
                outstanding += 1
                requestStart = nil
                bodyStart = now
            }
            if step.requestEnded {
                requestStart = nil
                bodyStart = nil
            }
            let slice = bytes.readSlice(length: step.consumed)!
            held = bytes.readableBytes > 0 ? bytes : nil
            if out == nil {
                out = slice
            } else {
                var s = slice
                out!.writeBuffer(&s)
            }
            if step.consumed == 0 { break }
        }
        if framer.betweenRequests, held == nil { requestStart = nil }
        return out.map { .forward($0) } ?? .none
    }
}
