import AsyncHTTPClient
import ClipKitCore
import Foundation
import NIOCore
import NIOHTTP1

/// How often and how long to retry a call that failed transiently (HTTP 429, 5xx, connection errors).
public struct RetryPolicy: Sendable, Hashable {
    /// Attempts in all, the first included.
    public var maxAttempts: Int
    public var initialDelay: Duration
    public var maxDelay: Duration
    public var multiplier: Double
    /// Each delay is scaled by a random factor in 1 ± jitter, so many clients do not retry in step.
    public var jitter: Double
    /// A server's `Retry-After` is honoured up to this long; beyond it the call fails instead of hanging.
    public var maxRetryAfter: Duration

    public init(maxAttempts: Int = 6, initialDelay: Duration = .milliseconds(500), maxDelay: Duration = .seconds(30),
                multiplier: Double = 2, jitter: Double = 0.25, maxRetryAfter: Duration = .seconds(120)) {
        self.maxAttempts = maxAttempts
        self.initialDelay = initialDelay
        self.maxDelay = maxDelay
        self.multiplier = multiplier
        self.jitter = jitter
        self.maxRetryAfter = maxRetryAfter
    }

    /// The wait before attempt `attempt + 1` (attempt counts from 1): exponential with jitter, or the
    /// server's `Retry-After` when it asks for longer. `random` is in 0…1.
    public func delay(afterAttempt attempt: Int, retryAfter: Duration?, random: Double) -> Duration {
        let base = initialDelay * pow(multiplier, Double(max(0, attempt - 1)))
        let capped = min(base, maxDelay)
        let jittered = capped * (1 + jitter * (2 * random - 1))
        guard let retryAfter else { return jittered }
        return max(jittered, min(retryAfter, maxRetryAfter))
    }

    /// Parses `Retry-After`: delta seconds or an HTTP date.
    public static func parseRetryAfter(_ value: String?, now: Date = Date()) -> Duration? {
        guard let value = value?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
        if let seconds = Double(value) { return .milliseconds(Int64(max(0, seconds) * 1000)) }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        guard let date = formatter.date(from: value) else { return nil }
        return .milliseconds(Int64(max(0, date.timeIntervalSince(now)) * 1000))
    }
}

/// One HTTP answer, body read in full (API calls, not downloads).
struct HTTPReply: Sendable {
    var status: Int
    var headers: HTTPHeaders
    var body: Data

    /// The body as JSON, or nil when it is not JSON.
    var json: JSONValue? { try? JSONValue(parsing: body) }

    var retryAfter: Duration? { RetryPolicy.parseRetryAfter(headers.first(name: "retry-after")) }

    /// A short, printable excerpt of the body for error messages.
    var excerpt: String {
        let text = String(decoding: body.prefix(300), as: UTF8.self)
        return text.replacingOccurrences(of: "\n", with: " ")
    }
}

/// A failure below HTTP: the request may not have left (`sent == false`: refused, connect timeout),
/// or may have reached the server with its answer lost (`sent == true`: read timeout, closed).
struct TransportFailure: Error, Sendable, CustomStringConvertible {
    var sent: Bool
    var description: String
}

/// The HTTP client every provider client shares: one `HTTPClient` owned here, with connect and read
/// timeouts, shut down by whoever created the transport.
public final class HTTPTransport: Sendable {
    let client: HTTPClient
    /// Per-request deadline for API calls (downloads use the read timeout only).
    public let requestTimeout: Duration

    /// - Parameters:
    ///   - connectTimeout: how long to wait for a TCP connection.
    ///   - readTimeout: how long a connection may stay silent mid-response before it counts as cut.
    ///   - requestTimeout: the whole-request deadline of an API call.
    public init(connectTimeout: Duration = .seconds(10), readTimeout: Duration = .seconds(60),
                requestTimeout: Duration = .seconds(60)) {
        var configuration = HTTPClient.Configuration()
        configuration.timeout = .init(connect: .init(connectTimeout), read: .init(readTimeout))
        configuration.redirectConfiguration = .follow(max: 5, allowCycles: false)
        client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        self.requestTimeout = requestTimeout
    }

    /// Closes the connection pool. Call once, when no request is running.
    public func shutdown() async throws {
        try await client.shutdown()
    }

    /// Runs `body` with a new transport and shuts it down afterwards, whether `body` returns or throws
    /// (a client dropped without `shutdown()` traps in AsyncHTTPClient).
    /// - Throws: what `body` throws.
    public static func with<T>(isolation: isolated (any Actor)? = #isolation,
                               _ body: (HTTPTransport) async throws -> T) async throws -> T {
        let transport = HTTPTransport()
        do {
            let result = try await body(transport)
            try? await transport.shutdown()
            return result
        } catch {
            try? await transport.shutdown()
            throw error
        }
    }

    /// Whether a GET of `url` answers with a 2xx status (used to find a running sandbox).
    public func isReachable(_ url: String) async -> Bool {
        guard let reply = try? await perform(method: .GET, url: url, headers: [], body: nil) else { return false }
        return (200..<300).contains(reply.status)
    }

    /// Sends one request and reads the whole answer; no retries.
    /// - Throws: `TransportFailure`.
    func perform(method: HTTPMethod, url: String, headers: [(String, String)], body: Data?,
                 timeout: Duration? = nil) async throws -> HTTPReply {
        var request = HTTPClientRequest(url: url)
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body { request.body = .bytes(ByteBuffer(bytes: body)) }
        do {
            let response = try await client.execute(request, timeout: .init(timeout ?? requestTimeout))
            let buffer = try await response.body.collect(upTo: 64 << 20)
            return HTTPReply(status: Int(response.status.code), headers: response.headers, body: Data(buffer.readableBytesView))
        } catch {
            throw Self.classify(error)
        }
    }

    /// Sends an idempotent request (a status query, a listing), retrying 429, 5xx and connection
    /// errors per `policy`. Returns the final reply, whatever its status.
    /// - Throws: `ProviderError.transport` when every attempt failed below HTTP.
    func performRetrying(method: HTTPMethod, url: String, headers: [(String, String)], body: Data? = nil,
                         provider: String, operation: String, policy: RetryPolicy,
                         onRetry: @Sendable (String, Duration) async -> Void = { _, _ in }) async throws -> HTTPReply {
        var attempt = 0
        while true {
            attempt += 1
            let reason: String
            var retryAfter: Duration?
            do {
                let reply = try await perform(method: method, url: url, headers: headers, body: body)
                guard reply.status == 429 || reply.status >= 500, attempt < policy.maxAttempts else { return reply }
                reason = "HTTP \(reply.status)"
                retryAfter = reply.retryAfter
                if let wait = retryAfter, wait > policy.maxRetryAfter { return reply }
            } catch let failure as TransportFailure {
                guard attempt < policy.maxAttempts else {
                    throw ProviderError.transport(provider: provider, operation: operation,
                                                  "\(failure.description) (after \(attempt) attempts)")
                }
                reason = failure.description
            }
            let delay = policy.delay(afterAttempt: attempt, retryAfter: retryAfter, random: Double.random(in: 0...1))
            await onRetry("\(operation): \(reason), retry \(attempt + 1)/\(policy.maxAttempts)", delay)
            try await Task.sleep(for: delay)
        }
    }

    /// Maps AsyncHTTPClient/NIO errors to whether the request can have reached the server.
    static func classify(_ error: any Error) -> TransportFailure {
        if let failure = error as? TransportFailure { return failure }
        if let client = error as? HTTPClientError {
            switch client {
            case .connectTimeout, .invalidURL, .emptyHost, .emptyScheme:
                return TransportFailure(sent: false, description: "\(client)")
            case .deadlineExceeded, .readTimeout:
                return TransportFailure(sent: true, description: "timed out waiting for the answer")
            case .remoteConnectionClosed:
                return TransportFailure(sent: true, description: "the server closed the connection")
            default:
                return TransportFailure(sent: true, description: "\(client)")
            }
        }
        if let io = error as? IOError, io.errnoCode == ECONNREFUSED {
            return TransportFailure(sent: false, description: "connection refused")
        }
        let text = String(describing: error)
        // NIOPosix's NIOConnectionError (all connect attempts failed) is not visible from here by type.
        if text.contains("NIOConnectionError") || text.contains("connection refused") || text.contains("Connection refused") {
            return TransportFailure(sent: false, description: "connection refused")
        }
        return TransportFailure(sent: true, description: text)
    }
}

extension TimeAmount {
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self = .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}

extension Duration {
    /// Seconds as a Double, for messages and arithmetic.
    var seconds: Double {
        let (s, atto) = components
        return Double(s) + Double(atto) / 1e18
    }
}
