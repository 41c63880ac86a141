import AsyncHTTPClient
import ClipKitCore
import Foundation
import NIOCore

/// Streams a task's output to disk, resumes a cut transfer with `Range`, and checks what arrived
/// (content type, size, probe) before renaming it into place. An XML/HTML answer — object storage's
/// AccessDenied or expired signature — is reported as such and never saved as a clip.
struct Downloader: Sendable {
    let transport: HTTPTransport
    /// Checks the finished file is a clip before it is renamed into place.
    let probe: @Sendable (String) -> MediaInfo
    /// How many times a cut or failed transfer is resumed before giving up.
    var maxResumes: Int = 6
    var retry: RetryPolicy
    /// Whole-transfer deadline per attempt; the transport's read timeout catches a stalled connection.
    var attemptTimeout: Duration = .seconds(1800)

    /// What a download produced.
    struct Result: Sendable {
        var info: MediaInfo
        var bytes: Int64
        var resumes: Int
    }

    /// Downloads `url` to `partialPath` (continuing it if it exists), verifies it and renames it to `destination`.
    /// - Throws: `ProviderError.downloadExpired`, `.downloadFailed`; `OutputFileError` for the rename.
    func download(url: String, taskID: String, partialPath: String, destination: String, overwrite: Bool,
                  progress: @Sendable (Int64, Int64?) async -> Void) async throws -> Result {
        if !overwrite, FileManager.default.fileExists(atPath: destination) { throw OutputFileError.exists(destination) }
        var resumes = 0
        var entityTag: String?
        func fail(_ message: String) -> ProviderError { .downloadFailed(taskID: taskID, url: url, message) }

        while true {
            let offset = Self.fileSize(partialPath)
            var request = HTTPClientRequest(url: url)
            if offset > 0 {
                request.headers.add(name: "Range", value: "bytes=\(offset)-")
                if let entityTag { request.headers.add(name: "If-Range", value: entityTag) }
            }
            var cutReason: String
            do {
                let response = try await transport.client.execute(request, timeout: .init(attemptTimeout))
                let status = Int(response.status.code)
                let contentType = response.headers.first(name: "content-type")?.lowercased() ?? ""
                if Self.isMarkup(contentType) {
                    throw ProviderError.downloadExpired(taskID: taskID, url: url, status: status,
                                                        detail: Self.errorDetail(try await response.body.collect(upTo: 1 << 16)))
                }
                switch status {
                case 200:
                    if offset > 0 { try Self.truncate(partialPath) }  // the server ignored the range: start over
                case 206:
                    let range = Self.contentRangeStart(response.headers.first(name: "content-range"))
                    guard range == offset else {
                        try Self.truncate(partialPath)
                        resumes += 1
                        guard resumes <= maxResumes else { throw fail("Content-Range does not continue the file") }
                        continue
                    }
                case 416:
                    try Self.truncate(partialPath)
                    resumes += 1
                    guard resumes <= maxResumes else { throw fail("range not satisfiable") }
                    continue
                case 429, 500...:
                    throw TransportFailure(sent: true, description: "HTTP \(status)")
                default:
                    let body = try await response.body.collect(upTo: 1 << 16)
                    if Self.looksLikeMarkup(Data(body.readableBytesView)) || status == 403 {
                        throw ProviderError.downloadExpired(taskID: taskID, url: url, status: status, detail: Self.errorDetail(body))
                    }
                    throw fail("HTTP \(status)")
                }
                entityTag = response.headers.first(name: "etag")
                let start = Self.fileSize(partialPath)
                let expectedTotal: Int64? = Self.contentRangeTotal(response.headers.first(name: "content-range"))
                    ?? response.headers.first(name: "content-length").flatMap { Int64($0) }.map { $0 + start }
                try await write(response.body, to: partialPath, from: start, taskID: taskID, url: url,
                                total: expectedTotal, progress: progress)
                let size = Self.fileSize(partialPath)
                if let expectedTotal, size < expectedTotal {
                    cutReason = "transfer ended at \(size) of \(expectedTotal) bytes"
                } else {
                    return try finish(partialPath: partialPath, destination: destination, overwrite: overwrite,
                                      taskID: taskID, url: url, resumes: resumes)
                }
            } catch let error as ProviderError {
                try? FileManager.default.removeItem(atPath: partialPath)
                throw error
            } catch let error as OutputFileError {
                throw error
            } catch {
                cutReason = TransportFailure.describe(error)
            }
            resumes += 1
            guard resumes <= maxResumes else {
                throw fail("\(cutReason); gave up after \(maxResumes) resumes at \(Self.fileSize(partialPath)) bytes "
                           + "(partial file kept at \(partialPath))")
            }
            try await Task.sleep(for: retry.delay(afterAttempt: resumes, retryAfter: nil, random: .random(in: 0...1)))
        }
    }

    /// Appends the body to the partial file; the first bytes of a fresh file are checked for markup.
    private func write(_ body: HTTPClientResponse.Body, to path: String, from start: Int64, taskID: String, url: String,
                       total: Int64?, progress: @Sendable (Int64, Int64?) async -> Void) async throws {
        if !FileManager.default.fileExists(atPath: path) {
            guard FileManager.default.createFile(atPath: path, contents: nil) else {
                throw ProviderError.downloadFailed(taskID: taskID, url: url, "cannot create \(path)")
            }
        }
        guard let handle = FileHandle(forWritingAtPath: path) else {
            throw ProviderError.downloadFailed(taskID: taskID, url: url, "cannot write \(path)")
        }
        defer { try? handle.close() }
        try handle.seekToEnd()
        var written = start
        var checked = start > 0
        for try await chunk in body {
            let data = Data(chunk.readableBytesView)
            if !checked {
                checked = true
                if Self.looksLikeMarkup(data) {
                    throw ProviderError.downloadExpired(taskID: taskID, url: url, status: 200,
                                                        detail: Self.errorDetail(ByteBuffer(bytes: data)))
                }
            }
            try handle.write(contentsOf: data)
            written += Int64(data.count)
            await progress(written, total)
        }
    }

    /// Probes the finished file and renames it into place; a file that is not a clip is removed.
    private func finish(partialPath: String, destination: String, overwrite: Bool, taskID: String, url: String,
                        resumes: Int) throws -> Result {
        let info = probe(partialPath)
        if let problem = info.error {
            try? FileManager.default.removeItem(atPath: partialPath)
            throw ProviderError.downloadFailed(taskID: taskID, url: url, "the file is not a playable clip: \(problem)")
        }
        if !overwrite, FileManager.default.fileExists(atPath: destination) { throw OutputFileError.exists(destination) }
        guard rename(partialPath, destination) == 0 else {
            throw OutputFileError.unwritable(destination, call: "rename", reason: String(cString: strerror(errno)))
        }
        var placed = info
        placed.path = destination
        return Result(info: placed, bytes: Self.fileSize(destination), resumes: resumes)
    }

    static func fileSize(_ path: String) -> Int64 {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.int64Value ?? 0
    }

    static func truncate(_ path: String) throws {
        if FileManager.default.fileExists(atPath: path) { try FileManager.default.removeItem(atPath: path) }
    }

    static func isMarkup(_ contentType: String) -> Bool {
        contentType.contains("xml") || contentType.contains("html")
    }

    /// True when bytes start like an XML or HTML document rather than a video.
    static func looksLikeMarkup(_ data: Data) -> Bool {
        let head = String(decoding: data.prefix(64), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
        return ["<?xml", "<error", "<!doctype", "<html"].contains { head.hasPrefix($0) }
    }

    /// `Code: Message` from an object-storage XML error, or the first characters of the body.
    static func errorDetail(_ body: ByteBuffer) -> String {
        let text = String(decoding: body.readableBytesView.prefix(2048), as: UTF8.self)
        func element(_ name: String) -> String? {
            guard let open = text.range(of: "<\(name)>"), let close = text.range(of: "</\(name)>", range: open.upperBound..<text.endIndex)
            else { return nil }
            return String(text[open.upperBound..<close.lowerBound])
        }
        let parts = [element("Code"), element("Message")].compactMap { $0 }
        return parts.isEmpty ? String(text.prefix(120)).replacingOccurrences(of: "\n", with: " ") : parts.joined(separator: ": ")
    }

    /// The first byte of `bytes START-END/TOTAL`.
    static func contentRangeStart(_ header: String?) -> Int64? {
        guard let header, let spec = header.split(separator: " ").last, let dash = spec.firstIndex(of: "-") else { return nil }
        return Int64(spec[..<dash])
    }

    /// TOTAL of `bytes START-END/TOTAL`, unless it is `*`.
    static func contentRangeTotal(_ header: String?) -> Int64? {
        guard let header, let slash = header.lastIndex(of: "/") else { return nil }
        return Int64(header[header.index(after: slash)...])
    }
}

extension TransportFailure {
    /// A readable reason for any error thrown while talking HTTP.
    static func describe(_ error: any Error) -> String {
        if let failure = error as? TransportFailure { return failure.description }
        return HTTPTransport.classify(error).description
    }
}
