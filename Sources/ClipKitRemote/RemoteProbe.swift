import AsyncHTTPClient
import ClipKitCore
import ClipKitMP4
import Foundation
import NIOCore

/// Naming remote clips.
package enum RemoteClip {
    /// Whether `path` is an http(s) URL, which the remote probe reads with Range requests.
    package static func isRemote(_ path: String) -> Bool {
        let lower = path.prefix(8).lowercased()
        return lower.hasPrefix("http://") || lower.hasPrefix("https://")
    }

    /// The URL without query, fragment or user info: what messages and logs print, so a presigned URL's
    /// signature (and a password) never reaches them.
    package static func displayName(_ url: String) -> String {
        guard var parts = URLComponents(string: url) else {
            return String(url.prefix { $0 != "?" && $0 != "#" })
        }
        parts.query = nil
        parts.fragment = nil
        parts.user = nil
        parts.password = nil
        return parts.string ?? String(url.prefix { $0 != "?" && $0 != "#" })
    }
}

/// What reading a remote clip gave.
package enum RemoteAnswer: Sendable {
    /// Answered from the index (`MediaInfo` equal to a local probe of the same file), or a problem
    /// (`error` set: expired, not found, a cut transfer, …).
    case probed(MediaInfo)
    /// The whole clip, downloaded: the server ignored `Range`, or the clip is not an MP4 the index reader
    /// models (then FFmpeg must see all of it, as for a local file). Probe this copy locally.
    case downloaded(TemporaryFile)
}

/// Probes clips where they lie, over HTTP: the head (one request, which also gives the size), the moov
/// wherever the top-level box headers put it (in the head, after it, or at the tail past the media
/// data), then the first sample's first bytes if the head did not hold them. An ordinary clip costs 1–3
/// requests and a few kilobytes; the MP4 reader (`MP4Probe`) runs on the fetched ranges (`RangeCache`).
///
/// Owns one `HTTPClient` (its connection pool keeps connections alive between a clip's requests and
/// between clips on the same host). `shared` lives as long as the process; any other instance must be
/// shut down.
package final class RemoteProbe: Sendable {
    /// The reader `MediaProbe` uses: never shut down.
    package static let shared = RemoteProbe()

    /// How much of the clip the first request asks for: an ordinary Wan clip's ftyp, a faststart moov
    /// of a few seconds and often the first picture's SEI, or, with the moov at the end, the mdat header
    /// and the first picture's start. Small, because a short clip is a few hundred kilobytes and the
    /// probe should cost it well under 2%; a longer moov costs one more request, not more bytes.
    static let headBytes: Int64 = 3072
    /// What a request for the rest of a box asks for past its end: the next box headers and the first
    /// sample's start, which follow a faststart moov.
    static let readAhead: Int64 = 2048
    /// A clip's requests beyond which the index reader's reads are not worth chasing: download instead.
    static let maxRequests = 8
    /// Past the media data lies the index: fetched whole up to this size.
    static let maxTail: Int64 = 64 << 20
    /// How many clips a batch reads at once (and connections per host): each is a few requests and
    /// next to no CPU, so more than the cores, but bounded so a manifest of thousands queues here.
    package static let concurrency = 16

    private let client: HTTPClient
    private let deadline: TimeAmount

    /// - Parameters:
    ///   - connectTimeout: how long to wait for a TCP (and TLS) connection.
    ///   - readTimeout: how long the server may stay silent mid-answer before the transfer counts as cut.
    ///   - deadline: the longest any one request (a fallback download included) may take.
    package init(connectTimeout: Duration = .seconds(10), readTimeout: Duration = .seconds(20),
                 deadline: Duration = .seconds(600), connectionsPerHost: Int = concurrency) {
        var configuration = HTTPClient.Configuration()
        configuration.timeout = .init(connect: .init(connectTimeout), read: .init(readTimeout))
        configuration.redirectConfiguration = .follow(max: 5, allowCycles: false)
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: connectionsPerHost)
        // A refused connection is an answer: retrying it until the deadline would only delay the error.
        configuration.connectionPool.retryConnectionEstablishment = false
        client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        self.deadline = .init(deadline)
    }

    /// Closes the connection pool. Call once, when no probe is running (never on `shared`).
    package func shutdown() async throws {
        try await client.shutdown()
    }

    /// Reads what a probe needs of the clip at `url`. Never throws: problems come back in
    /// `MediaInfo.error`, naming the URL without its query and the failed step.
    package func probe(_ url: String) async -> RemoteAnswer {
        let clip = ClipRequests(url: url, client: client, deadline: deadline)
        do throws(MediaProblem) {
            let cache: RangeCache
            switch try await clip.fetch(0..<Self.headBytes) {
            case .whole(let file):
                return .downloaded(file)
            case .range(let start, let bytes, let total):
                cache = RangeCache(size: total)
                cache.add(bytes, at: start)
            }
            // The index where the box headers say it is, then whatever else the reader finds missing.
            while clip.requests < Self.maxRequests {
                let next: Range<Int64>
                if let planned = Self.nextIndexRange(cache) {
                    next = planned
                } else {
                    do {
                        return .probed(try MP4Probe.read(cache, path: url))
                    } catch {
                        // No missing range: not an MP4 the reader models. A missing one (the first sample's
                        // start, past the head) is fetched as asked: the reader reads exactly what it needs.
                        guard let missing = cache.takeMissing() else { break }
                        next = missing
                    }
                }
                switch try await clip.fetch(next) {
                case .whole(let file): return .downloaded(file)  // the object changed since the head
                case .range(let start, let bytes, let total):
                    guard total == cache.size else { return .downloaded(try await clip.fetchWhole()) }
                    cache.add(bytes, at: start)
                }
            }
            return .downloaded(try await clip.fetchWhole())
        } catch {
            return .probed(MediaInfo(path: url, error: error))
        }
    }

    /// The next range the top-level boxes need: walks their headers from the start, skipping the media
    /// data, and asks for the first header or non-media box not fetched yet — the tail after an mdat
    /// whole (that is where the index lies), else the rest of the box and a little past it. Nil when
    /// every box but the media data is here, or the headers are not a tiling MP4's (the reader decides).
    static func nextIndexRange(_ cache: RangeCache) -> Range<Int64>? {
        var offset: Int64 = 0, afterMediaData = false
        while offset < cache.size {
            let headerEnd = min(cache.size, offset + 16)
            if let gap = cache.firstGap(in: offset..<headerEnd) {
                let tail = cache.size - gap
                let end = afterMediaData && tail <= maxTail ? cache.size : min(cache.size, headerEnd + readAhead)
                return gap..<end
            }
            guard let box = try? cache.box(at: offset), box.size <= cache.size - offset else { return nil }
            if box.type == "mdat" {
                afterMediaData = true
            } else if let gap = cache.firstGap(in: offset..<(offset + box.size)) {
                guard box.size <= 256 << 20 else { return nil }
                return gap..<min(cache.size, offset + box.size + readAhead)
            }
            offset += box.size
        }
        return nil
    }
}

extension ClipRequests {
    /// The whole clip, into a temporary file.
    /// - Throws: `MediaProblem`, also when the server answers the plain GET with a part.
    func fetchWhole() async throws(MediaProblem) -> TemporaryFile {
        switch try await fetch(nil) {
        case .whole(let file): return file
        case .range: throw MediaProblem(.unreadable, "\(name): downloading: the server answered with part of the file")
        }
    }
}
