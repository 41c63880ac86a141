import ClipKitConsole
import ClipKitCore
import ClipKitLedger
import ClipKitMedia
import Foundation
import Hummingbird

/// `requirements` of `POST /v1/clips`: what `clipkit verify` takes, by the same names.
struct RequirementsBody: Codable, Hashable, Sendable {
    var tier: String?
    var duration: Double?
    var fps: Double?
    var audio: Bool?
    var toleranceFrames: Double?

    init() {}

    /// The same five as query parameters, for a raw upload: `?tier=720P&duration=5&fps=30&audio=yes&toleranceFrames=1`.
    init(query: Parameters) throws {
        func number(_ name: String) throws -> Double? {
            guard let text = query.get(name), !text.isEmpty else { return nil }
            guard let value = Double(text), value.isFinite else { throw APIError.badRequest("\(name) must be a number, not '\(text)'") }
            return value
        }
        tier = query["tier"].map(String.init)
        duration = try number("duration")
        fps = try number("fps")
        toleranceFrames = try number("toleranceFrames")
        if let text = query["audio"].map({ $0.lowercased() }), !text.isEmpty {
            switch text {
            case "yes", "true": audio = true
            case "no", "false": audio = false
            default: throw APIError.badRequest("audio must be yes or no, not '\(text)'")
            }
        }
    }

    /// The requirements verify checks.
    /// - Throws: `APIError` 400 naming the field that is wrong.
    func parsed() throws -> ClipRequirements {
        var parsedTier: Tier?
        if let tier {
            guard let value = Tier(parsing: tier) else { throw APIError.badRequest("tier must be 480P, 720P or 1080P, not '\(tier)'") }
            parsedTier = value
        }
        if let problem = ClipRequirements.problem(duration: duration, fps: fps, toleranceFrames: toleranceFrames,
                                                  names: ("duration", "fps", "toleranceFrames")) {
            throw APIError.badRequest(problem)
        }
        return ClipRequirements(tier: parsedTier, duration: duration, toleranceFrames: toleranceFrames ?? 1, fps: fps, audio: audio)
    }

    /// Sorted-key JSON: part of an idempotency fingerprint.
    var canonical: String { (try? JSONOutput.encode(self)) ?? "" }
}

/// The JSON body of `POST /v1/clips`.
struct ClipRequestBody: Decodable {
    var url: String?
    var requirements: RequirementsBody?
}

/// What verification found, as stored and answered.
struct VerificationBody: Codable {
    var passed: Bool
    var failures: [ClipRequirements.Failure]
    var requirements: RequirementsBody
}

/// A clip as the API answers it; frames as URLs on this server.
struct ClipBody: Encodable {
    var id: String
    var sha256: String
    var byteCount: Int64
    var sourceURL: String?
    var taskID: String?
    var createdAt: Date
    var probe: JSONValue
    var verification: JSONValue?
    var frames: [String: String]

    init(_ clip: ClipRecord) {
        id = clip.id
        sha256 = clip.sha256
        byteCount = clip.byteCount
        sourceURL = clip.sourceURL
        taskID = clip.taskID
        createdAt = clip.createdAt
        probe = clip.probe
        verification = clip.verification
        frames = Dictionary(uniqueKeysWithValues: clip.frames.keys.map { ($0, "/v1/clips/\(clip.id)/frames/\($0).png") })
    }
}

/// Stops the idempotency pre-check before it creates anything.
private struct NotYetCreated: Error {}

/// `POST /v1/probe`'s answer.
private struct ProbeAnswer: Encodable {
    var probe: JSONValue
    var verification: VerificationBody
}

/// How a request of `POST /v1/clips` or `POST /v1/probe` sends its clip: its bytes (`video/*` or
/// `application/octet-stream`, requirements in the query; the body not yet read) or JSON
/// `{"url", "requirements"}`.
private enum ClipSource {
    case upload(RequirementsBody)
    case url(URL, RequirementsBody)

    var requirements: RequirementsBody {
        switch self {
        case .upload(let requirements), .url(_, let requirements): requirements
        }
    }

    /// - Throws: `APIError` 400 for a malformed body or requirements, 415 for another content type.
    init(_ request: Request, _ context: ServerContext) async throws {
        let mediaType = request.headers[.contentType]?.split(separator: ";").first
            .map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
        if mediaType == "application/json" {
            let body = try await decodedBody(ClipRequestBody.self, of: request, context, what: "a clip request")
            guard let text = body.url, let url = URL(string: text), let scheme = url.scheme?.lowercased(),
                  scheme == "http" || scheme == "https", url.host != nil
            else { throw APIError.badRequest(#"a JSON body needs "url": an http or https URL of the clip"#) }
            let requirements = body.requirements ?? RequirementsBody()
            _ = try requirements.parsed()
            self = .url(url, requirements)
        } else if mediaType.hasPrefix("video/") || mediaType == "application/octet-stream" {
            let requirements = try RequirementsBody(query: request.uri.queryParameters)
            _ = try requirements.parsed()
            self = .upload(requirements)
        } else {
            throw APIError(.unsupportedMediaType, "unsupportedMediaType",
                           "send the clip as its raw bytes (Content-Type: video/mp4) or as application/json with a url")
        }
    }
}

let idempotencyKeyField = HTTPFields.Element.Name("Idempotency-Key")!
/// The findings batch a reconciled bill was recorded under (`POST /v1/bills`).
let batchField = HTTPFields.Element.Name("ClipKit-Findings-Batch")!

extension Routes {
    /// `POST /v1/clips`: a raw clip (`video/*` or `application/octet-stream`, requirements in the query)
    /// or JSON `{"url", "requirements"}`. Probes, verifies and extracts the first and last frames before
    /// anything is stored; a clip that cannot be read is 422 with the probe's code and leaves nothing.
    @Sendable func createClip(_ request: Request, _ context: ServerContext) async throws -> Response {
        let key = try idempotencyKey(request)
        let source = try await ClipSource(request, context)
        let temp = data.temporaryFile(".part")
        defer { try? FileManager.default.removeItem(atPath: temp) }
        let received: Received
        var sourceURL: String?
        var fetched = 200
        let fingerprint: String
        switch source {
        case .url(let url, let requirements):
            // Checked before the download: a replay fetches nothing.
            fingerprint = requestFingerprint(Data("url \(url.absoluteString) \(requirements.canonical)".utf8))
            if let key, let existing = try await replayedClip(key: key, fingerprint: fingerprint) { return existing }
            (received, fetched) = try await download(url, into: temp, limit: configuration.maxClipBytes)
            sourceURL = redacted(url)
        case .upload(let requirements):
            received = try await receive(request.body, into: temp, limit: configuration.maxClipBytes)
            fingerprint = requestFingerprint(Data("upload \(received.sha256) \(requirements.canonical)".utf8))
            if let key, let existing = try await replayedClip(key: key, fingerprint: fingerprint) { return existing }
        }
        let requirements = source.requirements
        metrics.clipBytes(received.bytes, source: sourceURL == nil ? "upload" : "url")
        var record = ClipRecord(path: "", sha256: received.sha256, byteCount: received.bytes, sourceURL: sourceURL, probe: .null)
        let made = try await examine(temp, as: record.id, requirements: requirements, fetched: fetched)
        record.path = made.clip
        record.probe = made.probe
        record.verification = made.verification
        record.frames = made.frames
        let stored = [made.clip] + made.frames.values
        do {
            guard rename(temp, data.absolute(made.clip)) == 0 else {
                throw APIError(.internalServerError, "storage", "cannot move the clip into \(made.clip): \(String(cString: strerror(errno)))")
            }
            let (id, replayed) = try await store.transaction { tx -> (String, Bool) in
                guard let key else { return (try await tx.insertClip(record).id, false) }
                let result = try await tx.idempotent(scope: "clips", key: key, fingerprint: fingerprint) {
                    try await tx.insertClip(record).id
                }
                return (result.resourceID, result.replayed)
            }
            if replayed {
                removeFiles(stored)
                return try await clipResponse(id, status: .ok)
            }
        } catch {
            removeFiles(stored)
            throw error
        }
        return try await clipResponse(record.id, status: .created)
    }

    /// `POST /v1/probe`: what `clipkit verify` says of a clip, storing nothing. The clip's bytes
    /// (requirements in the query) or JSON `{"url", "requirements"}`; a URL is probed where it lies, with
    /// Range requests for its index as `clipkit probe URL` does. 200 with the probe and the verification;
    /// a file that is not a playable clip is 422 with the probe's code.
    @Sendable func probeClip(_ request: Request, _ context: ServerContext) async throws -> Response {
        let source = try await ClipSource(request, context)
        var info: MediaInfo
        // What the probe read is named as the answer names it: never the server's file, nor a presigned
        // URL's signature.
        let read: String
        switch source {
        case .url(let url, _):
            read = url.absoluteString
            info = await MediaProbe.probe(read)
            info.path = redacted(url)
        case .upload:
            read = data.temporaryFile(".part")
            defer { try? FileManager.default.removeItem(atPath: read) }
            metrics.clipBytes(try await receiveScratch(request.body, into: read, limit: configuration.maxClipBytes), source: "upload")
            info = await MediaProbe.probe(read)
            info.path = "upload"
        }
        if let message = info.error?.message { info.error?.message = message.replacingOccurrences(of: read, with: info.path) }
        if let problem = info.error { throw APIError(.unprocessableContent, problem.code.rawValue, problem.message) }
        let failures = try source.requirements.parsed().failures(of: info)
        return jsonResponse(ProbeAnswer(
            probe: try JSONValue(encoding: info),
            verification: VerificationBody(passed: failures.isEmpty, failures: failures, requirements: source.requirements)))
    }

    /// The files a clip's record will name, made from the temporary file: the probe (with the clip's
    /// stored path, as `clipkit probe clips/ID.mp4` run in the data directory prints it), verification
    /// and the first and last frames as PNG.
    /// - Throws: `APIError` 422 with the probe's code for a file that is not a playable clip.
    private func examine(_ temp: String, as id: String, requirements: RequirementsBody, fetched: Int) async throws
        -> (clip: String, probe: JSONValue, verification: JSONValue, frames: [String: String])
    {
        func unplayable(_ code: String, _ message: String) -> APIError {
            APIError(.unprocessableContent, code, message.replacingOccurrences(of: temp, with: "the clip"))
        }
        var info = await MediaProbe.probe(temp)
        if let problem = info.error { throw unplayable(problem.code.rawValue, problem.message) }
        guard (200..<300).contains(fetched) else { throw unplayable("downloadFailed", "the URL answered HTTP \(fetched)") }
        let clip = "clips/\(id).\(info.container == "matroska" ? "mkv" : "mp4")"
        info.path = clip
        let failures = try requirements.parsed().failures(of: info)
        let verification = VerificationBody(passed: failures.isEmpty, failures: failures, requirements: requirements)
        var frames: [String: String] = [:]
        do {
            for (name, position) in [("first", FramePosition.first), ("last", .last)] {
                frames[name] = try await writeFrame(position, of: temp, name: "\(id)-\(name)")
            }
        } catch {
            removeFiles(Array(frames.values))
            if error is APIError { throw error }
            if let problem = error as? MediaProblem { throw unplayable(problem.code.rawValue, problem.message) }
            throw unplayable("unreadable", "no frame could be decoded: \(error)")
        }
        return (clip, try JSONValue(encoding: info), try JSONValue(encoding: verification), frames)
    }

    /// Decodes one frame of `clip` to `frames/NAME.png` (written through a temporary file, as every
    /// ClipKit output is); returns that relative path.
    func writeFrame(_ position: FramePosition, of clip: String, name: String) async throws -> String {
        let image = try await FrameExtractor.extract(position, from: clip)
        let relative = "frames/\(name).png"
        do {
            try await image.write(to: data.absolute(relative), overwrite: true)
        } catch let error as OutputFileError {
            throw APIError(.internalServerError, "storage", "cannot write \(relative) in the data directory: \(error)")
        }
        return relative
    }

    /// The clip an earlier request with this key made, answered as then; nil when the key is new.
    /// - Throws: `LedgerError.idempotencyKeyReused` (409) for the key with another request.
    private func replayedClip(key: String, fingerprint: String) async throws -> Response? {
        do {
            let result = try await store.transaction { tx in
                try await tx.idempotent(scope: "clips", key: key, fingerprint: fingerprint) { throw NotYetCreated() }
            }
            return try await clipResponse(result.resourceID, status: .ok)
        } catch is NotYetCreated {
            return nil
        }
    }

    private func removeFiles(_ relative: [String]) {
        for path in relative { try? FileManager.default.removeItem(atPath: data.absolute(path)) }
    }

    private func clipResponse(_ id: String, status: HTTPResponse.Status) async throws -> Response {
        guard let clip = try await store.read({ try await $0.clip(id) }) else { throw APIError.notFound("no clip \(id)") }
        return jsonResponse(ClipBody(clip), status: status)
    }

    /// `GET /v1/clips/{id}`.
    @Sendable func getClip(_ request: Request, _ context: ServerContext) async throws -> Response {
        try await clipResponse(try context.parameters.require("id"), status: .ok)
    }

    /// `GET /v1/clips/{id}/frames/{first|last|N}.png`: the first and last were made with the clip; frame N
    /// (counting displayed frames from 0) is decoded on first request and kept.
    @Sendable func getFrame(_ request: Request, _ context: ServerContext) async throws -> Response {
        let id = try context.parameters.require("id")
        let file = try context.parameters.require("frame")
        guard file.hasSuffix(".png") else { throw APIError.notFound("frames are PNG: ask for first.png, last.png or N.png") }
        let name = String(file.dropLast(4))
        guard var clip = try await store.read({ try await $0.clip(id) }) else { throw APIError.notFound("no clip \(id)") }
        if clip.frames[name] == nil {
            guard let index = Int(name), index >= 0, String(index) == name else {
                throw APIError.notFound("no frame \(file): ask for first.png, last.png or N.png")
            }
            do {
                clip.frames[name] = try await writeFrame(.index(index), of: data.absolute(clip.path), name: "\(id)-\(index)")
            } catch let error as FrameRangeError {
                throw APIError(.notFound, "noSuchFrame", "\(clip.id) has no frame \(index): \(error.description)")
            }
            try await store.transaction { try await $0.updateClip(clip) }
        }
        guard let relative = clip.frames[name], let png = FileManager.default.contents(atPath: data.absolute(relative)) else {
            throw APIError(.notFound, "notFound", "the frame file of \(id) is missing from the data directory")
        }
        return Response(status: .ok, headers: [.contentType: "image/png", .cacheControl: "private, max-age=31536000, immutable"],
                        body: ResponseBody(byteBuffer: ByteBuffer(bytes: png)))
    }
}

