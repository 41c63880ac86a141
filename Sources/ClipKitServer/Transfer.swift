import AsyncHTTPClient
import Crypto
import Foundation
import Hummingbird
import NIOCore

/// A clip that arrived in a temporary file, to be kept: its size and SHA-256.
struct Received: Sendable {
    var bytes: Int64
    var sha256: String
}

/// Streams `body` into `path` (created afresh), hashing as it goes, and flushes it to disk: a clip to keep.
/// - Throws: `APIError` 413 past `limit` bytes, 500 when the file cannot be written; what the body throws.
func receive<Body: AsyncSequence>(_ body: Body, into path: String, limit: Int64) async throws -> Received
where Body.Element == ByteBuffer {
    var hasher: SHA256? = SHA256()
    let bytes = try await stream(body, into: path, limit: limit, hasher: &hasher)
    return Received(bytes: bytes, sha256: hasher!.finalize().map { String(format: "%02x", $0) }.joined())
}

/// Streams `body` into a scratch file that is read once and removed (a probe's): neither hashed nor
/// flushed to disk. Returns its size.
func receiveScratch<Body: AsyncSequence>(_ body: Body, into path: String, limit: Int64) async throws -> Int64
where Body.Element == ByteBuffer {
    var none: SHA256?
    return try await stream(body, into: path, limit: limit, hasher: &none)
}

/// The one copy loop: `hasher` sees every byte and the file is synchronised when there is one.
private func stream<Body: AsyncSequence>(_ body: Body, into path: String, limit: Int64, hasher: inout SHA256?) async throws
    -> Int64 where Body.Element == ByteBuffer
{
    guard FileManager.default.createFile(atPath: path, contents: nil), let handle = FileHandle(forWritingAtPath: path) else {
        throw APIError(.internalServerError, "storage", "cannot create a temporary file in the data directory")
    }
    defer { try? handle.close() }
    var count: Int64 = 0
    for try await buffer in body {
        count += Int64(buffer.readableBytes)
        guard count <= limit else {
            throw APIError(.contentTooLarge, "payloadTooLarge", "the clip is larger than the server's limit of \(limit) bytes")
        }
        try buffer.withUnsafeReadableBytes { bytes in
            hasher?.update(bufferPointer: bytes)
            try handle.write(contentsOf: bytes)
        }
    }
    if hasher != nil { try handle.synchronize() }
    return count
}

/// The client clip URLs are fetched with, for the life of the process (as `HTTPClient.shared` is). A host
/// that cannot be reached fails at once: by default the pool would retry the connection until the
/// request's deadline, and a mistyped URL would hold the request for five minutes.
private let downloads: HTTPClient = {
    var configuration = HTTPClient.Configuration()
    configuration.timeout = .init(connect: .seconds(10), read: .seconds(60))
    configuration.connectionPool.retryConnectionEstablishment = false
    configuration.redirectConfiguration = .follow(max: 5, allowCycles: false)
    return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
}()

/// Downloads `url` (http or https) into `path` through `receive`. An answer that is not 2xx is still saved,
/// so the probe can say what it was (an expired link's XML page is `notMedia`); `status` tells the caller.
func download(_ url: URL, into path: String, limit: Int64) async throws -> (received: Received, status: Int) {
    var request = HTTPClientRequest(url: url.absoluteString)
    request.method = .GET
    let response: HTTPClientResponse
    do {
        response = try await downloads.execute(request, timeout: .seconds(300))
    } catch {
        throw APIError(.unprocessableContent, "downloadFailed", "GET \(redacted(url)) failed: \(error)")
    }
    if let length = response.headers.first(name: "content-length").flatMap(Int64.init), length > limit {
        throw APIError(.contentTooLarge, "payloadTooLarge", "\(redacted(url)) is \(length) bytes, over the server's limit of \(limit)")
    }
    return (try await receive(response.body, into: path, limit: limit), Int(response.status.code))
}

/// The URL without credentials, query or fragment: what may be stored and shown (a presigned link's
/// query is its secret).
func redacted(_ url: URL) -> String {
    guard var components = URLComponents(url: url, resolvingAgainstBaseURL: false) else { return "the URL" }
    components.user = nil
    components.password = nil
    components.query = nil
    components.fragment = nil
    return components.string ?? "the URL"
}
