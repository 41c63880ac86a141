import ClipKitMedia
import Foundation
import Hummingbird
import Logging
import NIOCore

/// A loopback HTTP server that serves real clip files the way object storage does (`Range`, `ETag`,
/// `If-Range`, XML error pages), with switchable faults, and counts what clients asked of it: what the
/// remote-probe tests and bench/remote-probe.sh hold the client to.
///
/// `GET /clips/NAME[?query]` serves the file registered as NAME (the query, e.g. a fake signature, is
/// ignored); `GET /_stats` answers the counts as JSON, `POST /_reset` zeroes them.
public final class ClipFileServer: Sendable {
    /// Ways a clip's URL can fail.
    public enum Fault: Sendable, Hashable {
        /// 403 with object storage's XML body for an expired presigned URL.
        case expired
        /// The body stops (the connection is closed) after this many bytes.
        case cutAfter(Int)
        /// Headers are sent, then nothing: the client's read timeout must end it.
        case stall
        /// 500 with a short text body.
        case serverError
    }

    /// What clients asked for: requests and body bytes sent, in all and per clip name.
    public struct Counts: Sendable, Codable, Equatable {
        public var requests = 0
        public var bytes = 0
        public var requestsByName: [String: Int] = [:]
        public var bytesByName: [String: Int] = [:]
        /// The most requests being answered at once: what bounds a client's concurrency.
        public var maxInFlight = 0
    }

    actor State {
        var files: [String: String]
        var ranges = true
        var faults: [String: Fault] = [:]
        var counts = Counts()
        var inFlight = 0

        init(files: [String: String]) { self.files = files }

        func request(_ name: String) -> (path: String?, ranges: Bool, fault: Fault?) {
            counts.requests += 1
            counts.requestsByName[name, default: 0] += 1
            inFlight += 1
            counts.maxInFlight = max(counts.maxInFlight, inFlight)
            return (files[name], ranges, faults[name])
        }

        func sent(_ count: Int, for name: String) {
            counts.bytes += count
            counts.bytesByName[name, default: 0] += count
        }

        func finished() { inFlight -= 1 }

        func set(ranges: Bool) { self.ranges = ranges }
        func set(_ fault: Fault?, for name: String) { faults[name] = fault }
        func add(_ name: String, path: String) { files[name] = path }
        func reset() { counts = Counts() }
    }

    public let baseURL: String
    private let state: State
    private let runTask: Task<Void, any Error>

    /// The server's handlers run on threads of their own. On Swift's cooperative pool (two threads on a
    /// 2-core CI machine) they would wait while other tests block it (a test waiting for ffmpeg), and a
    /// client's read timeout would fire on a server that is only starved, not stalled.
    private static let handlerThreads = MediaExecutor(threads: 2)

    /// Starts serving `files` (name → local path) on 127.0.0.1, on a free port unless one is given.
    /// - Throws: when the port cannot be bound.
    public static func start(files: [String: String], port: Int = 0) async throws -> ClipFileServer {
        let state = State(files: files)
        let router = Router()
        router.get("/clips/:name") { request, context in
            try await serve(request, name: context.parameters.get("name") ?? "", state: state)
        }
        router.get("/_stats") { _, _ in
            let json = try JSONEncoder().encode(await state.counts)
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: json)))
        }
        router.post("/_reset") { _, _ in
            await state.reset()
            return Response(status: .noContent)
        }
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        var logger = Logger(label: "clipkit.clip-file-server")
        logger.logLevel = .critical
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)),
                              onServerRunning: { continuation.yield($0.localAddress?.port ?? 0) }, logger: logger)
        let runTask = Task(executorPreference: handlerThreads) {
            defer { continuation.finish() }
            try await app.run()
        }
        var bound = 0
        for await port in ports {
            bound = port
            break
        }
        guard bound > 0 else {
            _ = await runTask.result
            throw CancellationError()
        }
        return ClipFileServer(baseURL: "http://127.0.0.1:\(bound)", state: state, runTask: runTask)
    }

    private init(baseURL: String, state: State, runTask: Task<Void, any Error>) {
        self.baseURL = baseURL
        self.state = state
        self.runTask = runTask
    }

    /// Stops listening; connections still open are closed.
    public func stop() async {
        runTask.cancel()
        _ = await runTask.result
    }

    /// The URL of a registered clip, with an optional query (e.g. a fake presigned signature).
    public func url(_ name: String, query: String? = nil) -> String {
        baseURL + "/clips/" + name + (query.map { "?" + $0 } ?? "")
    }

    /// Whether `Range` is honoured (206) or ignored (200 with the whole file), as some servers do.
    public func setRanges(_ on: Bool) async { await state.set(ranges: on) }
    public func setFault(_ fault: Fault?, for name: String) async { await state.set(fault, for: name) }
    public func add(_ name: String, path: String) async { await state.add(name, path: path) }
    public func counts() async -> Counts { await state.counts }
    public func resetCounts() async { await state.reset() }

    private static func serve(_ request: Request, name: String, state: State) async throws -> Response {
        let (path, ranges, fault) = await state.request(name)
        let (response, streamed) = try await respond(request, name: name, path: path, ranges: ranges, fault: fault, state: state)
        if !streamed { await state.finished() }
        return response
    }

    /// The answer; a file's body calls `finished()` when it ends, anything else is finished at once.
    private static func respond(_ request: Request, name: String, path: String?, ranges: Bool, fault: Fault?,
                                state: State) async throws -> (Response, streamed: Bool) {
        switch fault {
        case .expired?:
            return (xmlError(.forbidden, code: "AccessDenied", message: "Request has expired."), false)
        case .serverError?:
            return (Response(status: .internalServerError, body: .init(byteBuffer: ByteBuffer(string: "internal error"))), false)
        default:
            break
        }
        guard let path, let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.intValue else {
            return (xmlError(.notFound, code: "NoSuchKey", message: "The specified key does not exist."), false)
        }
        let etag = "\"\(name)-\(size)\""
        var (start, end, partial) = (0, size - 1, false)
        if ranges, let range = request.headers[.range], request.headers[.ifRange].map({ $0 == etag }) ?? true {
            guard let (first, last) = parseRange(range, size: size) else {
                return (Response(status: .rangeNotSatisfiable, headers: [.contentRange: "bytes */\(size)"]), false)
            }
            (start, end, partial) = (first, last, true)
        }
        var headers: HTTPFields = [.contentType: "video/mp4", .eTag: etag]
        if ranges { headers[.acceptRanges] = "bytes" }
        if partial { headers[.contentRange] = "bytes \(start)-\(end)/\(size)" }
        let length = end - start + 1, offset = start
        let body = ResponseBody(contentLength: length) { writer in
            do {
                try await send(path: path, start: offset, length: length, fault: fault, name: name, state: state, to: &writer)
                await state.finished()
            } catch {
                await state.finished()
                throw error
            }
        }
        return (Response(status: partial ? .partialContent : .ok, headers: headers, body: body), true)
    }

    private static func send(path: String, start: Int, length: Int, fault: Fault?, name: String, state: State,
                             to writer: inout some ResponseBodyWriter) async throws {
            guard let handle = FileHandle(forReadingAtPath: path) else { throw CancellationError() }
            defer { try? handle.close() }
            try handle.seek(toOffset: UInt64(start))
            var sent = 0
            if case .stall? = fault { try await Task.sleep(for: .seconds(3600)) }
            while sent < length {
                var chunk = min(64 << 10, length - sent)
                if case .cutAfter(let limit)? = fault {
                    chunk = min(chunk, max(0, limit - sent))
                    if chunk == 0 {
                        // Let the client take what was sent, as over a real network, then close.
                        try await Task.sleep(for: .milliseconds(50))
                        throw CancellationError()
                    }
                }
                guard let data = try handle.read(upToCount: chunk), !data.isEmpty else { break }
                try await writer.write(ByteBuffer(bytes: data))
                sent += data.count
                await state.sent(data.count, for: name)
            }
            try await writer.finish(nil)
    }

    /// `bytes=first-last`, `bytes=first-` or `bytes=-suffix`, clamped to the file; nil when unsatisfiable.
    static func parseRange(_ header: String, size: Int) -> (Int, Int)? {
        guard header.hasPrefix("bytes="), !header.contains(","), let dash = header.firstIndex(of: "-") else { return nil }
        let first = Int(header[header.index(header.startIndex, offsetBy: 6)..<dash])
        let last = Int(header[header.index(after: dash)...])
        switch (first, last) {
        case let (first?, last):
            guard first < size, last.map({ $0 >= first }) ?? true else { return nil }
            return (first, min(last ?? size - 1, size - 1))
        case let (nil, suffix?):
            guard suffix > 0, size > 0 else { return nil }
            return (max(0, size - suffix), size - 1)
        default:
            return nil
        }
    }

    /// Object storage's XML error page.
    static func xmlError(_ status: HTTPResponse.Status, code: String, message: String) -> Response {
        let xml = """
            <?xml version="1.0" encoding="UTF-8"?>
            <Error><Code>\(code)</Code><Message>\(message)</Message><RequestId>0123456789ABCDEF</RequestId></Error>
            """
        return Response(status: status, headers: [.contentType: "application/xml"], body: .init(byteBuffer: ByteBuffer(string: xml)))
    }
}
