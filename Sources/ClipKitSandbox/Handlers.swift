import AsyncHTTPClient
import ClipKitCore
import Foundation
import Hummingbird
import NIOCore

/// A request the sandbox refuses, as the provider would: HTTP status, provider code, message.
struct Refusal: Error {
    var status: HTTPResponse.Status
    var code: String
    var message: String
}

/// The sandbox's request handling, shared by the three protocols' routes.
struct Handlers: Sendable {
    let state: SandboxState
    let configuration: SandboxConfiguration
    let webhookClient: HTTPClient

    func register(on router: Router<BasicRequestContext>) {
        registerDashScope(on: router)
        registerWaveSpeed(on: router)
        registerModelVerse(on: router)
        registerFiles(on: router)
        router.get("/sandbox/stats") { _, _ in Self.json(.ok, try JSONValue(encoding: await self.state.stats())) }
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
            throw SandboxError("answer dropped by the lostSubmitRate fault", code: .injectedFault)
        })
    }

    static func json(_ status: HTTPResponse.Status, _ value: JSONValue) -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = (try? encoder.encode(value)) ?? Data("{}".utf8)
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// The request body as JSON.
    /// - Throws: `Refusal` 400 when it is not JSON.
    static func body(_ request: Request) async throws -> JSONValue {
        var request = request
        let buffer = try await request.collectBody(upTo: 64 << 20)
        guard let json = try? JSONValue(parsing: buffer.readableBytesView), json.objectValue != nil else {
            throw Refusal(status: .badRequest, code: "InvalidParameter", message: "The request body is not a JSON object.")
        }
        return json
    }
}
