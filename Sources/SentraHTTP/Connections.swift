import Hummingbird
import HummingbirdCore
import NIOCore
import NIOHTTPTypes

/// How much a stranger's connections may hold (docs/http.md, "Limits"): every connection
/// either makes progress or is closed within `idleTimeout`, and at most `maxConnections` are
/// open at once (the rest wait in the kernel's accept queue), well below the daemon's
/// descriptor limit.
public struct HTTPLimits: Sendable, Equatable {
    /// Closes a connection that is idle between requests (keep-alive), still sending its
    /// request line and headers, sending its body, or not reading its answer, for this long.
    public var idleTimeout: Duration = .seconds(30)
    /// Open connections at most; the listener stops accepting while at it.
    public var maxConnections = 256
    /// Bytes of the request line and headers together, and of one header.
    public var maxHeaderBytes = 16 * 1024
    /// Header fields at most.
    public var maxHeaderFields = 100

    public init(idleTimeout: Duration = .seconds(30), maxConnections: Int = 256) {
        self.idleTimeout = idleTimeout
        self.maxConnections = max(1, maxConnections)
    }

    var timeAmount: TimeAmount {
        let c = idleTimeout.components
        return .nanoseconds(max(1, c.seconds * 1_000_000_000 + c.attoseconds / 1_000_000_000))
    }

    /// Hummingbird's HTTP/1 configuration: its idle timeout (idle, keep-alive and slow
    /// headers: a request's head resets it only once whole), the header limits, and
    /// `ConnectionDeadlines` for the body and the answer.
    func channelConfiguration() -> HTTP1Channel.Configuration {
        let timeout = timeAmount
        return HTTP1Channel.Configuration(
            additionalChannelHandlers: [ConnectionDeadlines(timeout: timeout)], idleTimeout: timeout,
            httpDecoderConfiguration: .init(
                maxHeaderFieldSize: maxHeaderBytes, maxHeaderListSize: maxHeaderBytes, maxHeaderFieldCount: maxHeaderFields))
    }
}

/// Closes a connection whose request body does not arrive whole within `timeout` of its head,
/// or that stays unwritable (the client does not read its answer) for `timeout`. Hummingbird's
/// idle timeout covers the time between requests and before a request's head is whole; it
/// does not cover these two, which a client can stretch for ever a byte at a time.
final class ConnectionDeadlines: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    let timeout: TimeAmount
    private var readingBody: Scheduled<Void>?
    private var unwritable: Scheduled<Void>?

    init(timeout: TimeAmount) { self.timeout = timeout }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head:
            readingBody?.cancel()
            readingBody = close(context, after: timeout)
        case .body:
            break
        case .end:
            readingBody?.cancel()
            readingBody = nil
        }
        context.fireChannelRead(data)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            unwritable?.cancel()
            unwritable = nil
        } else if unwritable == nil {
            unwritable = close(context, after: timeout)
        }
        context.fireChannelWritabilityChanged()
    }

    func handlerRemoved(context: ChannelHandlerContext) { cancelAll() }

    func channelInactive(context: ChannelHandlerContext) {
        cancelAll()
        context.fireChannelInactive()
    }

    private func cancelAll() {
        readingBody?.cancel()
        unwritable?.cancel()
        (readingBody, unwritable) = (nil, nil)
    }

    private func close(_ context: ChannelHandlerContext, after delay: TimeAmount) -> Scheduled<Void> {
        let channel = context.channel
        return context.eventLoop.scheduleTask(in: delay) { channel.close(promise: nil) }
    }
}
