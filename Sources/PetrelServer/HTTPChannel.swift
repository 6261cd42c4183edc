import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1

/// Hummingbird's HTTP/1 child channel with the RPC door in front of the HTTP-types conversion.
///
/// `HTTP1Channel` adds extra handlers after `HTTP1ToHTTPServerCodec`, so every request, the RPC's included, was
/// converted to swift-http-types and back (URL parsing, header copies: about a tenth of a single send's CPU).
/// Here `RPCFastPath` sees NIOHTTP1's parts straight from the decoder and only Hummingbird's requests are
/// converted. Otherwise the pipeline is `HTTP1Channel`'s.
struct PetrelHTTP1Channel: ServerChildChannel, HTTPChannelHandler {
    typealias Value = NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>

    let responder: HTTPChannelHandler.Responder
    let decoderLimits: NIOHTTPDecoderLimitConfiguration
    /// Bytes a request head may have (the decoder's limit, which requests over it get from the decoder).
    var maxHead: Int { decoderLimits.maxHeaderListSize }
    let fastPath: @Sendable () -> RPCFastPath

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            let pipeline = channel.pipeline.syncOperations
            try pipeline.configureHTTPServerPipeline(
                withPipeliningAssistance: false, withErrorHandling: false, withOutboundHeaderValidation: false,
                withEncoderConfiguration: .init(), withDecoderLimitConfiguration: decoderLimits)
            let rpc = fastPath()
            try pipeline.addHandler(RPCRequestFront(fastPath: rpc, maxHead: min(16 * 1024, maxHead), maxBody: rpc.maxBody), position: .first)
            try pipeline.addHandler(rpc)
            try pipeline.addHandler(HTTP1ToHTTPServerCodec(secure: false))
            // No idle timeout here: RPCFastPath owns it (it sees every request, this handler only Hummingbird's).
            try pipeline.addHandler(HTTPConnectionStateHandler(idleTimeout: nil, logger: logger))
            return try NIOAsyncChannel(wrappingChannelSynchronously: channel, configuration: .init(isOutboundHalfClosureEnabled: true))
        }
    }

    func handle(value asyncChannel: Value, logger: Logger) async {
        await handleHTTP(asyncChannel: asyncChannel, logger: logger)
    }
}
