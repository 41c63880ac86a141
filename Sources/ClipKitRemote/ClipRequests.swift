import AsyncHTTPClient
import ClipKitCore
import ClipKitMP4
import Foundation
import NIOCore
import NIOHTTP1

/// What one GET of a remote clip gave: the asked-for bytes (206), or the whole clip already on disk
/// because the server ignored `Range` (200) and sent everything.
enum Fetched {
    case range(start: Int64, bytes: [UInt8], total: Int64)
    case whole(TemporaryFile)
}

/// A downloaded copy of a remote clip, removed when the last reference goes.
package final class TemporaryFile: Sendable {
    package let path: String

    init(path: String) { self.path = path }

    deinit { unlink(path) }
}

/// The requests of one remote clip, in order, on the client's pool (one keep-alive connection when they
/// run one after another). Remembers the first answer's validator so later ranges come from the same
/// version of the object: a changed object answers 200 with the new one whole (If-Range).
final class ClipRequests {
    let url: String
    /// The URL as messages print it: no query (a presigned URL's signature), no user info.
    let name: String
    private let client: HTTPClient
    private let deadline: TimeAmount
    private var validator: String?
    /// Requests sent and body bytes received, for diagnostics and the bench.
    private(set) var requests = 0, bytes: Int64 = 0

    init(url: String, client: HTTPClient, deadline: TimeAmount) {
        self.url = url
        self.name = RemoteClip.displayName(url)
        self.client = client
        self.deadline = deadline
    }

    /// GETs `range` (nil: the whole clip, into a temporary file).
    /// - Throws: `MediaProblem` naming the URL, the range and what the server or the connection did.
    func fetch(_ range: Range<Int64>?) async throws(MediaProblem) -> Fetched {
        let step = range.map { "reading bytes \($0.lowerBound)-\($0.upperBound - 1)" } ?? "downloading"
        var request = HTTPClientRequest(url: url)
        if let range {
            request.headers.add(name: "Range", value: "bytes=\(range.lowerBound)-\(range.upperBound - 1)")
            if let validator { request.headers.add(name: "If-Range", value: validator) }
        }
        requests += 1
        let response: HTTPClientResponse
        do {
            response = try await client.execute(request, deadline: .now() + deadline)
        } catch {
            throw transportProblem(error, step: step)
        }
        switch response.status.code {
        case 206 where range != nil:
            guard let (start, end, total) = Self.contentRange(response.headers.first(name: "content-range")),
                  start == range!.lowerBound, end >= start, total > end
            else {
                throw MediaProblem(.unreadable, "\(name): \(step): the server's Content-Range "
                                   + "'\(response.headers.first(name: "content-range") ?? "")' is not the range asked for")
            }
            if validator == nil { validator = Self.validator(response.headers) }
            let body = try await collect(response.body, expected: Int(end - start + 1), step: step)
            return .range(start: start, bytes: body, total: total)
        case 200:
            return .whole(try await download(response, step: range == nil ? step : "\(step) (the server ignored Range: downloading all of it)"))
        case 416 where response.headers.first(name: "content-range") == "bytes */0":
            throw MediaProblem(.empty, "\(name): file is empty (0 bytes)")
        case 404, 410:
            throw MediaProblem(.notFound, "\(name): no such file on the server (HTTP \(response.status.code) \(response.status.reasonPhrase))")
        default:
            throw await statusProblem(response, step: step)
        }
    }

    /// A 4xx/5xx answer as a problem. Object storage answers an expired or denied presigned URL with 403
    /// and an XML error page: called `notMedia`, what probing that page saved as a file says, with its
    /// <Code> and <Message>, and "expired" when the storage says so.
    private func statusProblem(_ response: HTTPClientResponse, step: String) async -> MediaProblem {
        let status = "HTTP \(response.status.code) \(response.status.reasonPhrase)"
        let page = (try? await response.body.collect(upTo: 64 << 10)).map { Array($0.readableBytesView.prefix(4096)) } ?? []
        if FileSniffer.textPageKind(page) != nil, case let summary = FileSniffer.errorSummary(page), !summary.isEmpty {
            let expired = summary.lowercased().contains("expired")
            let what = expired ? "the URL has expired" : "the storage refused the URL"
            return MediaProblem(.notMedia, "\(name): \(what) (\(status)\(summary))")
        }
        return MediaProblem(.unreadable, "\(name): \(step): \(status)")
    }

    /// Reads a range's body, which must be exactly `expected` bytes.
    private func collect(_ body: HTTPClientResponse.Body, expected: Int, step: String) async throws(MediaProblem) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(expected)
        do {
            for try await chunk in body {
                guard bytes.count + chunk.readableBytes <= expected else {
                    throw MediaProblem(.unreadable, "\(name): \(step): the server sent more than the \(expected) bytes asked for")
                }
                bytes += chunk.readableBytesView
            }
        } catch let problem as MediaProblem {
            throw problem
        } catch {
            throw cutProblem(received: bytes.count, expected: expected, step: step, error: error)
        }
        self.bytes += Int64(bytes.count)
        guard bytes.count == expected else { throw cutProblem(received: bytes.count, expected: expected, step: step, error: nil) }
        return bytes
    }

    /// Streams a whole clip to a temporary file; a body shorter than its Content-Length is a cut.
    private func download(_ response: HTTPClientResponse, step: String) async throws(MediaProblem) -> TemporaryFile {
        let path = NSTemporaryDirectory() + "clipkit-remote-\(UUID().uuidString).mp4"
        guard FileManager.default.createFile(atPath: path, contents: nil), let handle = FileHandle(forWritingAtPath: path) else {
            throw MediaProblem(.unreadable, "\(name): \(step): cannot create \(path)")
        }
        let file = TemporaryFile(path: path)
        defer { try? handle.close() }
        let expected = response.headers.first(name: "content-length").flatMap { Int($0) }
        var received = 0
        do {
            for try await chunk in response.body {
                try handle.write(contentsOf: Data(chunk.readableBytesView))
                received += chunk.readableBytes
            }
        } catch {
            throw cutProblem(received: received, expected: expected, step: step, error: error)
        }
        bytes += Int64(received)
        if let expected, received != expected { throw cutProblem(received: received, expected: expected, step: step, error: nil) }
        return file
    }

    /// A body that stopped early. Not `truncated`: that says the clip itself is cut, and the clip may be
    /// whole on the server; the transfer was.
    private func cutProblem(received: Int, expected: Int?, step: String, error: (any Error)?) -> MediaProblem {
        let of = expected.map { " of \($0)" } ?? ""
        let why = error.map { "\(Self.describe($0))" } ?? "connection closed"
        return MediaProblem(.unreadable, "\(name): \(step): transfer cut after \(received)\(of) bytes (\(why))")
    }

    /// A failure below HTTP: no connection, a timeout, a reset.
    private func transportProblem(_ error: any Error, step: String) -> MediaProblem {
        MediaProblem(.unreadable, "\(name): \(step): \(Self.describe(error))")
    }

    private static func describe(_ error: any Error) -> String {
        switch error as? HTTPClientError {
        case .connectTimeout?: "could not connect in time"
        case .readTimeout?: "the server stopped sending (read timeout)"
        case .deadlineExceeded?: "the request took too long (deadline exceeded)"
        case .remoteConnectionClosed?: "the server closed the connection"
        case .invalidURL?: "not a valid URL"
        default:
            // NIO's socket errors read "connection reset (error set): …"; the errno is what matters.
            if let io = error as? IOError { "cannot connect: \(String(cString: strerror(io.errnoCode)))" } else { "\(error)" }
        }
    }

    /// `bytes first-last/total` of a 206 answer.
    static func contentRange(_ value: String?) -> (Int64, Int64, Int64)? {
        guard let value, value.hasPrefix("bytes ") else { return nil }
        let parts = value.dropFirst(6).split(whereSeparator: { $0 == "-" || $0 == "/" })
        guard parts.count == 3, let first = Int64(parts[0]), let last = Int64(parts[1]), let total = Int64(parts[2]) else { return nil }
        return (first, last, total)
    }

    /// A strong ETag, else Last-Modified: what If-Range accepts.
    private static func validator(_ headers: HTTPHeaders) -> String? {
        if let tag = headers.first(name: "etag"), !tag.hasPrefix("W/") { return tag }
        return headers.first(name: "last-modified")
    }
}
