import Hummingbird

/// Hummingbird's basic context plus the client's address, which the sign-in throttle counts failures by.
struct PetrelRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    /// The peer's IP address; "" when unknown (a Unix socket, a test channel).
    let clientAddress: String

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        clientAddress = source.channel.remoteAddress?.ipAddress ?? ""
    }
}
