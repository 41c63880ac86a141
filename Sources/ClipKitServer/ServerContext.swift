import ClipKitCore
import ClipKitLedger
import Foundation
import Hummingbird
import Logging

/// The request context of every route: Hummingbird's core storage plus the API token the request was
/// authenticated with (set by `BearerAuthMiddleware`; nil on public routes).
public struct ServerContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public var token: APIToken?

    public init(source: Source) {
        coreContext = .init(source: source)
        token = nil
    }

    /// JSON bodies (clip requests, webhooks) are small; uploads stream past this limit on their own.
    public var maxUploadSize: Int { 1 << 20 }
}

/// An error answered as `{"error": {"code", "message"}}` with `status`. Codes are camelCase words, the
/// probe's `MediaProblem` codes where a clip could not be read.
public struct APIError: HTTPResponseError, CustomStringConvertible {
    public var status: HTTPResponse.Status
    public var code: String
    public var message: String

    public init(_ status: HTTPResponse.Status, _ code: String, _ message: String) {
        self.status = status
        self.code = code
        self.message = message
    }

    public var description: String { "\(status.code) \(code): \(message)" }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        jsonResponse(ErrorBody(error: .init(code: code, message: message)), status: status)
    }

    static func badRequest(_ message: String) -> APIError { APIError(.badRequest, "badRequest", message) }
    static func unauthorized(_ message: String) -> APIError { APIError(.unauthorized, "unauthorized", message) }
    static func notFound(_ message: String) -> APIError { APIError(.notFound, "notFound", message) }
}

struct ErrorBody: Encodable {
    struct Detail: Encodable {
        var code: String
        var message: String
    }
    var error: Detail
}

/// A JSON response in the CLI's JSON style (sorted keys, slashes unescaped), dates in ISO 8601.
func jsonResponse<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok) -> Response {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    encoder.dateEncodingStrategy = .iso8601
    let text = (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) }
        ?? #"{"error":{"code":"internal","message":"the answer could not be encoded"}}"#
    return jsonResponse(text: text, status: status)
}

/// The same for an answer built as a `JSONValue` (the same text, without the encoder: for the webhook
/// route, whose bursts answer hundreds at once).
func jsonResponse(_ value: JSONValue, status: HTTPResponse.Status = .ok) -> Response {
    jsonResponse(text: value.jsonText, status: status)
}

private func jsonResponse(text: String, status: HTTPResponse.Status) -> Response {
    Response(
        status: status, headers: [.contentType: "application/json; charset=utf-8"],
        body: ResponseBody(byteBuffer: ByteBuffer(string: text + "\n")))
}

/// Turns every error into the one error shape: the API's own, Hummingbird's (an unknown route is 404,
/// a wrong method 405), the ledger's (mapped by code) and anything else (500, details only in the log).
struct ErrorMiddleware: RouterMiddleware {
    typealias Context = ServerContext
    /// The methods a path has routes for: an unknown method on a known path is 405 with `Allow`, not 404.
    let methods: @Sendable (String) -> [String]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            return try error.response(from: request, context: context)
        } catch let error as HTTPError where error.status == .notFound && !methods(request.uri.path).isEmpty {
            let allowed = methods(request.uri.path)
            var response = try APIError(.methodNotAllowed, "methodNotAllowed",
                                        "\(request.uri.path) answers \(allowed.joined(separator: ", ")), not \(request.method)")
                .response(from: request, context: context)
            response.headers[.allow] = allowed.joined(separator: ", ")
            return response
        } catch let error as HTTPError {
            let code = switch error.status {
            case .notFound: "notFound"
            case .methodNotAllowed: "methodNotAllowed"
            case .contentTooLarge: "payloadTooLarge"
            case .badRequest: "badRequest"
            default: "http\(error.status.code)"
            }
            let message = error.body ?? (error.status == .notFound ? "no route \(request.method) \(request.uri.path)" : error.status.reasonPhrase)
            return try APIError(error.status, code, message).response(from: request, context: context)
        } catch let error as LedgerError {
            let (status, code): (HTTPResponse.Status, String) = switch error.code {
            case .notFound: (.notFound, "notFound")
            case .idempotencyKeyReused: (.conflict, "idempotencyKeyReused")
            case .conflict: (.conflict, "conflict")
            case .unavailable: (.serviceUnavailable, "unavailable")
            default: (.internalServerError, "ledger")
            }
            if status == .internalServerError { context.logger.error("ledger failed: \(error.message)") }
            return try APIError(status, code, error.message).response(from: request, context: context)
        } catch {
            context.logger.error("\(request.method) \(request.uri.path) failed: \(error)")
            return try APIError(.internalServerError, "internal", "the server failed; see its log")
                .response(from: request, context: context)
        }
    }
}

/// Requires `Authorization: Bearer TOKEN` (or, for GET and HEAD only, the dashboard's cookie, so the page's
/// images load; never for a write, so another site cannot make a logged-in browser post).
struct BearerAuthMiddleware: RouterMiddleware {
    typealias Context = ServerContext
    let store: any LedgerStore

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        guard let secret = presentedToken(request, allowCookie: request.method == .get || request.method == .head) else {
            throw APIError.unauthorized("this route needs Authorization: Bearer TOKEN (make one with clipkit token create)")
        }
        guard let token = try await store.authenticate(secret) else {
            throw APIError.unauthorized("the token is unknown or revoked")
        }
        var context = context
        context.token = token
        return try await next(request, context)
    }
}

/// The cookie the dashboard's login form sets.
let tokenCookieName = "clipkit_token"

/// The token a request carries: the bearer header, else (when allowed) the dashboard cookie.
func presentedToken(_ request: Request, allowCookie: Bool) -> String? {
    if let header = request.headers[.authorization] {
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        let secret = parts[1].trimmingCharacters(in: .whitespaces)
        return secret.isEmpty ? nil : secret
    }
    guard allowCookie, let cookie = request.cookies[tokenCookieName]?.value, !cookie.isEmpty else { return nil }
    return cookie
}

/// A list route's `limit` query parameter: 1…1000, 100 when absent.
func listLimit(_ request: Request) throws -> Int {
    try request.uri.queryParameters["limit"].map { text -> Int in
        guard let value = Int(text), (1...1000).contains(value) else {
            throw APIError.badRequest("limit must be a whole number from 1 to 1000, not '\(text)'")
        }
        return value
    } ?? 100
}

/// The request's `Idempotency-Key`, nil when absent or empty.
/// - Throws: `APIError` 400 past 255 characters.
func idempotencyKey(_ request: Request) throws -> String? {
    let key = request.headers[idempotencyKeyField].flatMap { $0.isEmpty ? nil : $0 }
    if let key, key.count > 255 { throw APIError.badRequest("Idempotency-Key is longer than 255 characters") }
    return key
}

/// The request's JSON body as `T`.
/// - Throws: `APIError` 400 naming what the body should have been (`what`) and the decoder's reason.
func decodedBody<T: Decodable>(_ type: T.Type, of request: Request, _ context: ServerContext, what: String) async throws -> T {
    let buffer = try await request.body.collect(upTo: context.maxUploadSize)
    do {
        return try JSONDecoder().decode(T.self, from: buffer)
    } catch {
        throw APIError.badRequest("the body is not the JSON of \(what): \(error)")
    }
}
