import NIOCore

/// Flushes a handler's writes once per read burst or event-loop tick, not once per PDU: a syscall per
/// deliver_sm_resp (or, in the simulator, per submit_sm_resp) costs more than everything else on the path.
/// Used by `SMPPClientHandler` and the simulator's `SMSCHandler`, on their channel's event loop only.
final class BurstFlush {
    private var reading = false
    private var pending = false

    /// Runs `body` (decoding and answering one read's PDUs) as part of a read burst: what it writes is flushed by
    /// `readComplete`.
    func read(_ body: () throws -> Void) rethrows {
        reading = true
        defer { reading = false }
        try body()
    }

    /// After a write: inside a read burst `readComplete` flushes; outside, a flush is queued for the end of this
    /// event-loop tick (once, however many writes follow in it).
    func wrote(_ context: ChannelHandlerContext) {
        if reading {
            pending = true
        } else if !pending {
            pending = true
            context.eventLoop.assumeIsolated().execute { self.flush(context) }
        }
    }

    /// channelReadComplete: flushes what the burst wrote.
    func readComplete(_ context: ChannelHandlerContext) {
        flush(context)
    }

    /// Before a close: flushes what was written, `wrote` included.
    func closing(_ context: ChannelHandlerContext, wrote: Bool) {
        if wrote { pending = true }
        flush(context)
    }

    /// Flushes now if anything is waiting.
    func flush(_ context: ChannelHandlerContext) {
        guard pending else { return }
        pending = false
        context.flush()
    }
}

@available(*, unavailable)
extension BurstFlush: Sendable {}
