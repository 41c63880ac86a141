import AsyncHTTPClient
import ClipKitCore
import ClipKitMedia
import Crypto
import Foundation
import Hummingbird
import NIOCore

/// A request the sandbox refuses, as the provider would: HTTP status, provider code, message.
struct Refusal: Error {
    var status: HTTPResponse.Status
    var code: String
    var message: String
}

/// Everything a task needs besides its id, decided when it is created.
struct TaskPlan {
    var model: String
    var prompt: String
    var input: JSONValue
    var profile: ModelProfile
    var first: RGBImage?
    var last: RGBImage?
    var resolution: String?
    var size: String?
    var duration: Int?
    var seed: Int?
    var audio: Bool?
    var webhookURL: String?
}

/// The sandbox's request handling, shared by the three protocols' routes.
struct Handlers: Sendable {
    let state: SandboxState
    let configuration: SandboxConfiguration
    let webhookClient: HTTPClient

    static let renderQueue = DispatchQueue(label: "clipkit.sandbox.render")

    func register(on router: Router<BasicRequestContext>) {
        registerDashScope(on: router)
        registerWaveSpeed(on: router)
        registerModelVerse(on: router)
        router.get("/files/:name") { request, context in try await self.file(request, name: context.parameters.get("name") ?? "") }
        router.get("/media/:name") { _, context in
            guard let name = context.parameters.get("name"), let data = await self.state.media(name) else {
                return Response(status: .notFound)
            }
            let type = name.hasSuffix(".png") ? "image/png" : "image/jpeg"
            return Response(status: .ok, headers: [.contentType: type], body: .init(byteBuffer: ByteBuffer(bytes: data)))
        }
        router.get("/sandbox/stats") { _, _ in Self.json(.ok, try Self.encodable(await self.state.stats())) }
        router.get("/") { _, _ in
            let models = ModelProfile.known.sorted { $0.key.rawValue < $1.key.rawValue }
                .map { "  \($0.key.rawValue): \($0.value.joined(separator: ", "))" }.joined(separator: "\n")
            return "ClipKit sandbox: DashScope (/api/v1, /alibailian/api/v1), WaveSpeed (/api/v3), ModelVerse (/v1/tasks)\n\(models)\n"
        }
    }

    // MARK: - The common pipeline: latency, auth, rate faults

    /// Runs an API call through latency, the auth check and the 429/500 faults, then `body`.
    func api(_ proto: SandboxProtocol, _ request: Request, submit: Bool = false,
             _ body: () async throws -> Response) async throws -> Response {
        if submit { await state.countSubmitRequest(proto) }
        let faults = await state.faults
        if faults.latencyMs > 0 { try await Task.sleep(for: .milliseconds(faults.latencyMs)) }
        if let refusal = authenticate(proto, request) { return errorResponse(proto, refusal) }
        if await state.draw("429", rate: faults.rate429) {
            var response = errorResponse(proto, Refusal(status: .tooManyRequests, code: "Throttling.RateQuota",
                                                        message: "Requests rate limit exceeded, please try again later."))
            response.headers[.retryAfter] = "\(faults.retryAfterSeconds)"
            return response
        }
        if await state.draw("500", rate: faults.rate500) {
            return errorResponse(proto, Refusal(status: .internalServerError, code: "InternalError",
                                                message: "An internal error has occurred, please try again later."))
        }
        do {
            return try await body()
        } catch let refusal as Refusal {
            return errorResponse(proto, refusal)
        }
    }

    /// DashScope and WaveSpeed take `Bearer KEY`; ModelVerse takes the bare key and refuses "Bearer".
    func authenticate(_ proto: SandboxProtocol, _ request: Request) -> Refusal? {
        guard let header = request.headers[.authorization], !header.isEmpty else {
            return Refusal(status: .unauthorized, code: "InvalidApiKey", message: "No API-key provided.")
        }
        let key: Substring
        switch proto {
        case .dashscope, .wavespeed:
            guard header.hasPrefix("Bearer ") else {
                return Refusal(status: .unauthorized, code: "InvalidApiKey", message: "Authorization must be 'Bearer <key>'.")
            }
            key = header.dropFirst("Bearer ".count)
        case .modelverse:
            guard !header.hasPrefix("Bearer ") else {
                return Refusal(status: .unauthorized, code: "InvalidApiKey",
                               message: "ModelVerse takes the bare key in Authorization, without 'Bearer'.")
            }
            key = header[...]
        }
        if key.isEmpty || (configuration.apiKey.map { $0 != key } ?? false) {
            return Refusal(status: .unauthorized, code: "InvalidApiKey", message: "Invalid API-key provided.")
        }
        return nil
    }

    /// The provider's error body for a refusal.
    func errorResponse(_ proto: SandboxProtocol, _ refusal: Refusal) -> Response {
        let body: JSONValue = switch proto {
        case .dashscope: .object(["request_id": .string(UUID().uuidString.lowercased()), "code": .string(refusal.code),
                                  "message": .string(refusal.message)])
        case .wavespeed: .object(["code": .number(Decimal(refusal.status.code)), "message": .string(refusal.message)])
        case .modelverse: .object(["request_id": .string(UUID().uuidString.lowercased()),
                                   "error": .object(["code": .string(refusal.code), "message": .string(refusal.message)])])
        }
        return Self.json(refusal.status, body)
    }

    /// An answer whose connection closes before the body arrives: the client cannot tell whether the
    /// request was acted on.
    func lostAnswer() -> Response {
        Response(status: .ok, headers: [.contentType: "application/json"], body: ResponseBody(contentLength: 64) { _ in
            throw SandboxError("answer dropped by the lostSubmitRate fault")
        })
    }

    static func json(_ status: HTTPResponse.Status, _ value: JSONValue) -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = (try? encoder.encode(value)) ?? Data("{}".utf8)
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func encodable<T: Encodable>(_ value: T) throws -> JSONValue {
        try JSONDecoder().decode(JSONValue.self, from: JSONEncoder().encode(value))
    }

    /// The request body as JSON.
    /// - Throws: `Refusal` 400 when it is not JSON.
    static func body(_ request: Request) async throws -> JSONValue {
        var request = request
        let buffer = try await request.collectBody(upTo: 64 << 20)
        guard let json = try? JSONDecoder().decode(JSONValue.self, from: Data(buffer.readableBytesView)), json.objectValue != nil else {
            throw Refusal(status: .badRequest, code: "InvalidParameter", message: "The request body is not a JSON object.")
        }
        return json
    }

    // MARK: - Images

    /// A picture from a data URI or one of the sandbox's own uploads; the sandbox fetches nothing else.
    func image(_ reference: String, field: String) async throws -> RGBImage {
        let data: Data
        if reference.hasPrefix("data:") {
            guard let comma = reference.firstIndex(of: ","), reference[..<comma].hasSuffix(";base64"),
                  let decoded = Data(base64Encoded: String(reference[reference.index(after: comma)...])) else {
                throw Refusal(status: .badRequest, code: "InvalidParameter", message: "\(field) is not a base64 data URI.")
            }
            data = decoded
        } else if let range = reference.range(of: "/media/"), reference.hasPrefix(await state.baseURL),
                  let stored = await state.media(String(reference[range.upperBound...])) {
            data = stored
        } else {
            throw Refusal(status: .badRequest, code: "InvalidParameter.DataInspection",
                          message: "\(field): the sandbox is offline and reads only data URIs and its own uploads, not \(reference.prefix(80))")
        }
        let path = state.directory + "/input-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: path) }
        do {
            try data.write(to: URL(fileURLWithPath: path))
            return try RGBImage.load(path)
        } catch {
            throw Refusal(status: .badRequest, code: "InvalidParameter.DataInspection", message: "\(field) is not a readable image.")
        }
    }

    /// DashScope's kf2v frame limits: 360–2000 px a side.
    static func checkKeyframeLimits(_ image: RGBImage, field: String) throws {
        let sides = [image.width, image.height]
        guard sides.allSatisfy({ (360...2000).contains($0) }) else {
            throw Refusal(status: .badRequest, code: "InvalidParameter",
                          message: "\(field) is \(image.width)x\(image.height); each side must be 360–2000 px.")
        }
    }

    // MARK: - Creating and running tasks

    /// Validates a plan against its model, draws its faults, records the task and starts it.
    func create(_ proto: SandboxProtocol, _ plan: TaskPlan) async throws -> SandboxTask {
        let profile = plan.profile
        let durations = profile.durations
        let duration = plan.duration ?? durations[0]
        guard durations.contains(duration) else {
            throw Refusal(status: .badRequest, code: "InvalidParameter",
                          message: "duration \(duration) is not supported by \(plan.model) (use \(durations.map(String.init).joined(separator: " or ")))")
        }
        var tier: Tier
        var size: (Int, Int)
        if let text = plan.size {
            guard let parsed = OutputSize.parse(text), let sized = Tier.classify(width: parsed.0, height: parsed.1) else {
                throw Refusal(status: .badRequest, code: "InvalidParameter", message: "size \(text) is not supported.")
            }
            (tier, size) = (sized, parsed)
        } else {
            if let text = plan.resolution {
                guard let parsed = Tier(parsing: text) else {
                    throw Refusal(status: .badRequest, code: "InvalidParameter", message: "resolution \(text) is not supported.")
                }
                tier = parsed
            } else {
                // Real defaults differ by model (often 720P or 1080P); the sandbox defaults to 480P to stay fast.
                tier = profile.fixedTier ?? .p480
            }
            size = plan.first.map { OutputSize.matching(tier, width: $0.width, height: $0.height) }
                ?? (tier == .p480 ? (832, 480) : tier == .p720 ? (1280, 720) : (1920, 1080))
        }
        if let fixed = profile.fixedTier, tier != fixed {
            throw Refusal(status: .badRequest, code: "InvalidParameter", message: "\(plan.model) only makes \(fixed.rawValue).")
        }
        guard profile.tiers.contains(tier) else {
            throw Refusal(status: .badRequest, code: "InvalidParameter",
                          message: "resolution \(tier.rawValue) is not supported by \(plan.model) (use \(profile.tiers.map(\.rawValue).joined(separator: ", ")))")
        }
        let faults = await state.faults
        var frames = profile.frames(duration)
        if await state.draw("short", rate: faults.shortClipRate) { frames = Int(Double(frames) * 0.84) }  // 4.2 s of 5
        var renderSize = size
        if await state.draw("wrongTier", rate: faults.wrongTierRate) {
            let other: Tier = tier == .p480 ? .p720 : .p480
            renderSize = plan.first.map { OutputSize.matching(other, width: $0.width, height: $0.height) }
                ?? OutputSize.matching(other, width: size.0, height: size.1)
        }
        let outcome: SandboxTask.Outcome = if await state.draw("fail", rate: faults.failRate) { .fail }
            else if await state.draw("blocked", rate: faults.blockedRate) { .blocked } else { .normal }
        let seed = UInt64(truncatingIfNeeded: plan.seed ?? Int(stableHash(plan.prompt) % 2_147_483_647))
        let spec = ClipSpec(width: renderSize.0, height: renderSize.1, fps: profile.fps, frames: frames,
                            audio: profile.audio && (plan.audio ?? true), first: plan.first, last: plan.last,
                            prompt: plan.prompt, seed: seed, color: faults.clipColor ?? profile.color)
        let task = SandboxTask(
            id: await state.newID(proto), proto: proto, model: plan.model, prompt: plan.prompt, input: plan.input,
            createdAt: Date(), outcome: outcome, spec: spec, tier: tier, billedSeconds: duration,
            usageVariant: profile.usageVariant, expiredURL: await state.draw("expiredURL", rate: faults.expiredURLRate),
            cutsLeft: faults.cutTimes, webhookURL: plan.webhookURL)
        await state.add(task)
        await state.track(Task { await drive(task.id) })
        return task
    }

    /// Queue, run (render), finish, and deliver the webhook if one was asked for.
    func drive(_ id: String) async {
        let faults = await state.faults
        // A stopped sandbox cancels its drivers: the sleeps throw and the task goes no further.
        do { try await Task.sleep(for: .milliseconds(faults.queueMs)) } catch { return }
        guard await state.markRunning(id), let task = await state.task(id) else { return }
        let clock = ContinuousClock()
        let began = clock.now
        var phase = SandboxTask.Phase.succeeded
        var file: String?
        switch (task.outcome, task.proto) {
        case (.fail, .dashscope):
            phase = .failed(code: "InternalError.Algo", message: "An internal error occurred during video synthesis.")
        case (.fail, .wavespeed): phase = .failed(code: "failed", message: "Inference failed: worker crashed, please retry.")
        case (.fail, .modelverse): phase = .failed(code: "Failure", message: "inference failed: out of GPU memory")
        case (.blocked, .dashscope):
            phase = .failed(code: "DataInspectionFailed", message: "Output data may contain inappropriate content.")
        case (.blocked, .modelverse):
            phase = .failed(code: "Failure", message: "content moderation: the input image contains sensitive content")
        default:
            // WaveSpeed renders a blocked output anyway and flags it (has_nsfw_contents).
            let path = state.directory + "/\(id).mp4"
            do {
                try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                    Self.renderQueue.async {
                        do {
                            try ClipMaker.render(task.spec, to: path)
                            continuation.resume()
                        } catch {
                            continuation.resume(throwing: error)
                        }
                    }
                }
                file = path
            } catch {
                phase = .failed(code: "InternalError", message: "the sandbox could not render the clip: \(error)")
            }
        }
        let remaining = Duration.milliseconds(faults.runMs) - (clock.now - began)
        if remaining > .zero {
            do { try await Task.sleep(for: remaining) } catch { return }
        }
        await state.finish(id, phase: phase, filePath: file)
        if let hook = task.webhookURL, let finished = await state.task(id) {
            await deliverWebhook(to: hook, body: await waveSpeedPrediction(finished, includeInput: true))
        }
    }

    /// The output URL of a finished task, shaped like each provider's storage.
    func outputURL(_ task: SandboxTask) async -> String? {
        guard let token = task.fileToken else { return nil }
        let base = await state.baseURL
        switch task.proto {
        case .dashscope:
            let expires = Int(task.endedAt?.timeIntervalSince1970 ?? 0) + 86_400
            let signature = String(format: "%016llx", stableHash("sig-\(token)-\(expires)"))
            return "\(base)/files/\(token).mp4?Expires=\(expires)&OSSAccessKeyId=LTAIsandbox&Signature=\(signature)"
        case .wavespeed, .modelverse:
            return "\(base)/files/\(token).mp4"
        }
    }

    // MARK: - Downloads

    /// Serves a clip with `Range`, `ETag` and the expired-URL and cut faults.
    func file(_ request: Request, name: String) async throws -> Response {
        let token = name.hasSuffix(".mp4") ? String(name.dropLast(4)) : name
        guard let (task, cut) = await state.download(token: token, ranged: request.headers[.range] != nil),
              let path = task.filePath else {
            return Self.storageError(.notFound, code: "NoSuchKey", message: "The specified key does not exist.")
        }
        if task.expiredURL {
            return Self.storageError(.forbidden, code: "AccessDenied", message: "Request has expired.")
        }
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.intValue ?? 0
        let etag = "\"\(token)-\(size)\""
        var start = 0, end = size - 1, partial = false
        if let range = request.headers[.range], request.headers[.ifRange].map({ $0 == etag }) ?? true,
           range.hasPrefix("bytes="), let dash = range.firstIndex(of: "-") {
            let first = Int(range[range.index(range.startIndex, offsetBy: 6)..<dash])
            let last = Int(range[range.index(after: dash)...])
            guard let first, first < size else {
                return Response(status: .rangeNotSatisfiable, headers: [.contentRange: "bytes */\(size)"])
            }
            (start, end, partial) = (first, min(last ?? size - 1, size - 1), true)
        }
        let length = end - start + 1
        var headers: HTTPFields = [.contentType: "video/mp4", .acceptRanges: "bytes", .eTag: etag]
        if partial { headers[.contentRange] = "bytes \(start)-\(end)/\(size)" }
        let cutAfter = cut ? await state.faults.cutAfterBytes : nil
        let offset = start
        let body = ResponseBody(contentLength: length) { writer in
            guard let handle = FileHandle(forReadingAtPath: path) else { throw SandboxError("cannot read \(path)") }
            defer { try? handle.close() }
            try handle.seek(toOffset: UInt64(offset))
            var sent = 0
            while sent < length {
                var chunk = min(64 << 10, length - sent)
                if let cutAfter { chunk = min(chunk, max(0, cutAfter - sent)) }
                if chunk == 0 {
                    // Let the client take the bytes already sent, as over a real network, before the cut.
                    try await Task.sleep(for: .milliseconds(100))
                    throw SandboxError("download cut after \(sent) bytes by the cutAfterBytes fault")
                }
                guard let data = try handle.read(upToCount: chunk), !data.isEmpty else { break }
                try await writer.write(ByteBuffer(bytes: data))
                sent += data.count
            }
            try await writer.finish(nil)
        }
        return Response(status: partial ? .partialContent : .ok, headers: headers, body: body)
    }

    /// Object storage's XML error, as an expired signed URL answers.
    static func storageError(_ status: HTTPResponse.Status, code: String, message: String) -> Response {
        let xml = """
            <?xml version="1.0" encoding="UTF-8"?>
            <Error>
              <Code>\(code)</Code>
              <Message>\(message)</Message>
              <RequestId>\(UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(24))</RequestId>
              <HostId>sandbox-oss.127.0.0.1</HostId>
            </Error>
            """
        return Response(status: status, headers: [.contentType: "application/xml"], body: .init(byteBuffer: ByteBuffer(string: xml)))
    }

    // MARK: - Webhooks

    /// POSTs a signed WaveSpeed webhook: `webhook-signature: v3,<hex HMAC-SHA256 of "id.timestamp.body">`,
    /// keyed with the secret minus `whsec_`. Retried twice on failure.
    func deliverWebhook(to url: String, body: JSONValue) async {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let raw = try? encoder.encode(body) else { return }
        let id = "msg_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        let timestamp = String(Int(Date().timeIntervalSince1970))
        let secret = configuration.webhookSecret.hasPrefix("whsec_")
            ? String(configuration.webhookSecret.dropFirst("whsec_".count)) : configuration.webhookSecret
        var signed = Data("\(id).\(timestamp).".utf8)
        signed.append(raw)
        let mac = HMAC<SHA256>.authenticationCode(for: signed, using: SymmetricKey(data: Data(secret.utf8)))
        let signature = mac.map { String(format: "%02x", $0) }.joined()
        for attempt in 0..<3 {
            await state.countWebhook()
            var request = HTTPClientRequest(url: url)
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/json")
            request.headers.add(name: "webhook-id", value: id)
            request.headers.add(name: "webhook-timestamp", value: timestamp)
            request.headers.add(name: "webhook-signature", value: "v3,\(signature)")
            request.body = .bytes(ByteBuffer(bytes: raw))
            if let response = try? await webhookClient.execute(request, timeout: .seconds(10)),
               (200..<300).contains(response.status.code) {
                return
            }
            try? await Task.sleep(for: .milliseconds(200 * (attempt + 1)))
        }
    }
}
