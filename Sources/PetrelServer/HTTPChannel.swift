import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1

/// Hummingbird's HTTP/1 child channel with the door (`HTTPDoor`) in front of NIOHTTP1's request decoder.
///
/// `HTTP1Channel` adds extra handlers after `HTTP1ToHTTPServerCodec`, so every request, the RPC's included, was
/// converted to swift-http-types and back (URL parsing, header copies: about a tenth of a single send's CPU).
/// Here the door serves plain RPC requests from the bytes and only Hummingbird's requests reach the decoder and the
/// conversion. Otherwise the pipeline is `HTTP1Channel`'s.
struct PetrelHTTP1Channel: ServerChildChannel, HTTPChannelHandler {
    typealias Value = NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>

    let responder: HTTPChannelHandler.Responder
    let decoderLimits: NIOHTTPDecoderLimitConfiguration
    let door: @Sendable () -> HTTPDoor

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            let pipeline = channel.pipeline.syncOperations
            try pipeline.configureHTTPServerPipeline(
                withPipeliningAssistance: false,
                withErrorHandling: false,
                withOutboundHeaderValidation: false,
                withEncoderConfiguration: .init(),
                withDecoderLimitConfiguration: decoderLimits
            )
            try door().install(in: pipeline)
            try pipeline.addHandler(HTTP1ToHTTPServerCodec(secure: false))
            // No idle timeout here: the door owns the deadlines (it sees every request, this handler only Hummingbird's).
            try pipeline.addHandler(HTTPConnectionStateHandler(idleTimeout: nil, logger: logger))
            return try NIOAsyncChannel(
                wrappingChannelSynchronously: channel,
                configuration: .init(isOutboundHalfClosureEnabled: true)
            )
        }
    }

    func handle(value asyncChannel: Value, logger: Logger) async {
        await handleHTTP(asyncChannel: asyncChannel, logger: logger)
    }
}
