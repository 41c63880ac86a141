import ClipKitCore
import ClipKitFileServer
@testable import ClipKitMedia
import ClipKitRemote
import ClipKitTestSupport
import Foundation
import Testing

/// Runs `body` with a clip file server on loopback and always stops it.
func withServer<T>(_ files: [String: String], _ body: (ClipFileServer) async throws -> T) async throws -> T {
    let server = try await ClipFileServer.start(files: files)
    do {
        let result = try await body(server)
        await server.stop()
        return result
    } catch {
        await server.stop()
        throw error
    }
}

/// A sample remuxed (stream copy) with its moov after the media data, as ffmpeg writes without faststart.
func moovAtEnd(_ sample: String) throws -> String {
    // Made once however many tests ask at the same time (two made it at once and collided on the rename).
    try Fixtures.shared.ffmpegOutput("tail-" + sample, ["-i", Samples.path(sample), "-map", "0", "-c", "copy"])
}

/// The first top-level box types of a file, to check a fixture has the layout a test is about.
func topLevelTypes(_ path: String) throws -> [String] {
    let data = try Data(contentsOf: URL(fileURLWithPath: path))
    var types: [String] = [], offset = 0
    while offset + 8 <= data.count {
        let size = data[offset..<(offset + 4)].reduce(0) { $0 << 8 | Int($1) }
        types.append(String(decoding: data[(offset + 4)..<(offset + 8)], as: UTF8.self))
        guard size >= 8 else { break }
        offset += size
    }
    return types
}

func fileSize(_ path: String) throws -> Int {
    (try FileManager.default.attributesOfItem(atPath: path)[.size] as! NSNumber).intValue
}

/// The local probe of `path`, named as the remote one is (in its messages without the query).
func localProbe(_ path: String, as url: String) async -> MediaInfo {
    var info = await MediaProbe.probe(path)
    info.path = url
    if let message = info.error?.message {
        info.error?.message = message.replacingOccurrences(of: path, with: RemoteClip.displayName(url))
    }
    return info
}

@Suite("remote probe over HTTP Range")
struct RemoteProbeTests {
    /// The shared reader's timeouts, but a read timeout no stall of a loaded CI machine outlasts (CI-16: a
    /// loopback transfer silent for 20 s); the test of a stalled server sets its own.
    static let reader = RemoteProbe(readTimeout: .seconds(120))

    @Test("moov at the head: the local probe's answer from at most 3 requests and 2% of the bytes", arguments: Samples.all)
    func moovAtHead(_ sample: String) async throws {
        let path = Samples.path(sample)
        #expect(try topLevelTypes(path).prefix(2) == ["ftyp", "moov"])
        try await withServer([sample: path]) { server in
            let url = server.url(sample)
            let remote = await MediaProbe.probeRemote(url, reader: Self.reader)
            #expect(remote.error == nil, "\(remote.error!)")
            #expect(remote == (await localProbe(path, as: url)))
            let counts = await server.counts(), size = try fileSize(path)
            #expect(counts.requests <= 3)
            #expect(Double(counts.bytes) <= 0.02 * Double(size), "\(counts.bytes) bytes")
        }
    }

    @Test("moov at the tail: found from the mdat's size, at most 3 requests and 2% of the bytes", arguments: Samples.all)
    func moovAtTail(_ sample: String) async throws {
        let path = try moovAtEnd(sample)
        #expect(try topLevelTypes(path).last == "moov")
        try await withServer([sample: path]) { server in
            let url = server.url(sample)
            let remote = await MediaProbe.probeRemote(url, reader: Self.reader)
            #expect(remote.error == nil, "\(remote.error!)")
            #expect(remote.video?.frameCount != nil)
            #expect(remote == (await localProbe(path, as: url)))
            let counts = await server.counts(), size = try fileSize(path)
            #expect(counts.requests <= 3)
            #expect(Double(counts.bytes) <= 0.02 * Double(size), "\(counts.bytes) bytes")
        }
    }

    @Test("edge-case fixtures (edit list, rotation, HEVC, VFR, fragments, MKV, …) answer as locally")
    func fixturesAnswerAsLocally() async throws {
        let fixtures: [Fixture] = [.editListCut, .rotated, .variableFrameRate, .hevc, .indexAtEnd, .faststart,
                                   .audioLongerThanVideo, .fragmented, .fragmentedEmptyMoov, .matroska]
        var files: [String: String] = [:]
        for fixture in fixtures { files[fixture.rawValue] = try Fixtures.shared.path(fixture) }
        try await withServer(files) { server in
            for fixture in fixtures {
                let url = server.url(fixture.rawValue)
                let remote = await MediaProbe.probeRemote(url, reader: Self.reader)
                #expect(remote == (await localProbe(files[fixture.rawValue]!, as: url)), "\(fixture)")
            }
        }
    }

    @Test("a server that ignores Range: one full download, probed locally, the same answer")
    func serverWithoutRange() async throws {
        let path = Samples.path(Samples.audio720p)
        try await withServer(["clip.mp4": path]) { server in
            await server.setRanges(false)
            let url = server.url("clip.mp4")
            let remote = await MediaProbe.probeRemote(url, reader: Self.reader)
            #expect(remote.error == nil)
            #expect(remote == (await localProbe(path, as: url)))
            let counts = await server.counts(), size = try fileSize(path)
            #expect(counts.requests == 1)  // the answer to the ranged request was the whole file: kept, not asked again
            #expect(counts.bytes == size)
        }
    }

    @Test("bad files on the server get the local probe's codes: empty, cut, an XML page saved as a clip, audio only")
    func badFilesAsLocally() async throws {
        let bad = try Fixtures.shared.badInputs().filter { [.empty, .truncated, .notMedia, .noVideo].contains($0.code) }
        var files: [String: String] = [:]
        for (path, _) in bad { files[URL(fileURLWithPath: path).lastPathComponent] = path }
        try await withServer(files) { server in
            for (path, code) in bad {
                let url = server.url(URL(fileURLWithPath: path).lastPathComponent)
                let remote = await MediaProbe.probeRemote(url, reader: Self.reader)
                #expect(remote.error?.code == code, "\(path): \(String(describing: remote.error))")
                #expect(remote == (await localProbe(path, as: url)), "\(path)")
                #expect(remote.error?.message.contains(NSTemporaryDirectory() + "clipkit-remote") == false)
            }
        }
    }

    @Test("an expired presigned URL (403 with object storage's XML) says expired, without the signature")
    func expiredURL() async throws {
        try await withServer(["clip.mp4": Samples.path(Samples.t2v480p)]) { server in
            await server.setFault(.expired, for: "clip.mp4")
            let url = server.url("clip.mp4", query: "X-Amz-Expires=60&X-Amz-Signature=SECRETSIGNATURE")
            let info = await MediaProbe.probeRemote(url, reader: Self.reader)
            #expect(info.path == url)
            #expect(info.error?.code == .notMedia)
            #expect(info.error?.message.contains("expired") == true, "\(String(describing: info.error))")
            #expect(info.error?.message.contains("AccessDenied") == true)
            #expect(info.error?.message.contains(server.url("clip.mp4")) == true)
            #expect(info.error?.message.contains("SECRET") == false)
            #expect(await server.counts().requests == 1)
        }
    }

    @Test("404 is notFound; a server error is unreadable; both name the URL")
    func notFoundAndServerError() async throws {
        try await withServer(["clip.mp4": Samples.path(Samples.t2v480p)]) { server in
            let missing = await MediaProbe.probeRemote(server.url("gone.mp4", query: "sig=SECRET"), reader: Self.reader)
            #expect(missing.error?.code == .notFound)
            #expect(missing.error?.message.hasPrefix(server.url("gone.mp4") + ":") == true, "\(String(describing: missing.error))")
            #expect(missing.error?.message.contains("SECRET") == false)
            await server.setFault(.serverError, for: "clip.mp4")
            let failed = await MediaProbe.probeRemote(server.url("clip.mp4"), reader: Self.reader)
            #expect(failed.error?.code == .unreadable)
            #expect(failed.error?.message.contains("HTTP 500") == true, "\(String(describing: failed.error))")
        }
    }

    @Test("a connection cut mid-answer is an unreadable transfer, with or without Range", arguments: [true, false])
    func cutConnection(ranges: Bool) async throws {
        try await withServer(["clip.mp4": try moovAtEnd(Samples.t2v480p)]) { server in
            await server.setRanges(ranges)
            await server.setFault(.cutAfter(1000), for: "clip.mp4")
            let info = await MediaProbe.probeRemote(server.url("clip.mp4"), reader: Self.reader)
            #expect(info.error?.code == .unreadable)
            #expect(info.error?.message.contains("transfer cut after") == true, "\(String(describing: info.error))")
            #expect(info.error?.message.contains(ranges ? "reading bytes 0-3071" : "ignored Range") == true)
        }
    }

    @Test("a server that stops sending ends in the read timeout, not a hang")
    func stalledServer() async throws {
        let reader = RemoteProbe(readTimeout: .milliseconds(500))
        try await withServer(["clip.mp4": Samples.path(Samples.t2v480p)]) { server in
            await server.setFault(.stall, for: "clip.mp4")
            let info = await MediaProbe.probeRemote(server.url("clip.mp4"), reader: reader)
            #expect(info.error?.code == .unreadable)
            #expect(info.error?.message.contains("read timeout") == true, "\(String(describing: info.error))")
        }
        try await reader.shutdown()
    }

    @Test("nothing listening: unreadable, naming the URL")
    func connectionRefused() async throws {
        let server = try await ClipFileServer.start(files: [:])
        let url = server.url("clip.mp4")
        await server.stop()
        let info = await MediaProbe.probeRemote(url, reader: Self.reader)
        #expect(info.error?.code == .unreadable)
        #expect(info.error?.message.hasPrefix(url + ": reading bytes 0-3071") == true, "\(String(describing: info.error))")
    }

    @Test("1,000 URLs in one batch: every answer right and in order, concurrency bounded, one bad URL reported")
    func thousandURLs() async throws {
        var files: [String: String] = [:]
        for i in 0..<1000 { files[String(format: "clip-%04d.mp4", i)] = Samples.path(Samples.all[i % Samples.all.count]) }
        files["clip-0500.mp4"] = nil  // one missing object
        let expected = await Samples.all.asyncMap { await MediaProbe.probe(Samples.path($0)) }
        try await withServer(files) { server in
            let urls = (0..<1000).map { server.url(String(format: "clip-%04d.mp4", $0), query: "sig=\($0)") }
            let infos = try await MediaProbe.probeAll(urls)
            #expect(infos.count == 1000)
            for (i, info) in infos.enumerated() {
                #expect(info.path == urls[i])
                if i == 500 {
                    #expect(info.error?.code == .notFound)
                } else {
                    var local = expected[i % Samples.all.count]
                    local.path = urls[i]
                    #expect(info == local, "\(urls[i])")
                }
            }
            let counts = await server.counts()
            #expect(counts.requests <= 3 * 1000)
            #expect(counts.maxInFlight <= RemoteProbe.concurrency)
        }
    }

    @Test("clipkit probe URL prints byte for byte what a local probe prints, the path aside; the launcher answers it")
    func cliOutput() async throws {
        let path = try moovAtEnd(Samples.audio720p)
        try await withServer(["clip.mp4": path]) { server in
            let url = server.url("clip.mp4", query: "sig=abc")
            let binary = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
                .appendingPathComponent("clipkit").path
            for format in ["json", "jsonl"] {
                let remote = try Tool.capture(binary, ["probe", "--format", format, url])
                let local = try Tool.capture(binary, ["probe", "--format", format, path])
                #expect(remote.status == 0, "\(remote.stderr)")
                #expect(remote.text == local.text.replacingOccurrences(of: path, with: url))
            }
            // `clipkit` alone in a directory (no engine to hand on to) answers the URL itself.
            let alone = try Fixtures.shared.executableAlone(binary, name: "launcher-alone")
            let mixed = try Tool.capture(alone, ["probe", "--format", "jsonl", url, path])
            let engine = try Tool.capture(binary + "-engine", ["probe", "--format", "jsonl", url, path])
            #expect(mixed.status == 0, "\(mixed.stderr)")
            #expect(mixed.stdout == engine.stdout)
            #expect(mixed.text.split(separator: "\n").count == 2)
        }
    }
}

extension Sequence {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var out: [T] = []
        for element in self { out.append(try await transform(element)) }
        return out
    }
}
