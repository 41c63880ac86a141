import ClipKitCore
import Foundation
import NIOHTTP1

/// Plumbing shared by the three clients: authenticated calls, retries, and the submit classification.
struct APICaller: Sendable {
    let provider: String
    let transport: HTTPTransport
    /// The `Authorization` header's value (`Bearer sk-…` or the bare key for ModelVerse).
    let authorization: String
    let retry: RetryPolicy
    var extraHeaders: [(String, String)] = []

    var headers: [(String, String)] { [("Authorization", authorization)] + extraHeaders }

    /// An idempotent call (status, listing, cancel), retried on 429/5xx/connection errors.
    func call(_ method: HTTPMethod, _ url: String, json body: JSONValue? = nil, operation: String) async throws -> HTTPReply {
        var headers = self.headers
        var data: Data?
        if let body {
            headers.append(("Content-Type", "application/json"))
            data = try JSONValue.encode(body)
        }
        return try await transport.performRetrying(method: method, url: url, headers: headers, body: data,
                                                   provider: provider, operation: operation, policy: retry)
    }

    /// One POST of a submission; classifies any failure by whether a task may exist.
    /// `taskID` reads the id from a 2xx answer's JSON; `error` reads code and message from an error body.
    func submit(_ submission: PreparedSubmission, extraHeaders: [(String, String)] = [],
                taskID: (JSONValue) -> String?, status: (JSONValue) -> String?,
                error: (JSONValue?) -> (String?, String?)) async throws -> SubmittedTask {
        let operation = "submit of \(submission.model)"
        let reply: HTTPReply
        do {
            reply = try await transport.perform(
                method: .POST, url: submission.url,
                headers: headers + [("Content-Type", "application/json")] + extraHeaders,
                body: try JSONValue.encode(submission.body))
        } catch let failure as TransportFailure {
            throw SubmitAttemptError(mayHaveCreatedTask: failure.sent,
                                     error: .transport(provider: provider, operation: operation, failure.description))
        }
        guard (200..<300).contains(reply.status) else {
            let (code, message) = error(reply.json)
            let failure = ProviderError.http(provider: provider, operation: operation, status: reply.status,
                                             code: code, message: message ?? (reply.json == nil ? reply.excerpt : nil))
            // A 5xx may come from a gateway after the backend accepted the task; 429 and other 4xx never create one.
            throw SubmitAttemptError(mayHaveCreatedTask: reply.status >= 500, error: failure, retryAfter: reply.retryAfter)
        }
        guard let json = reply.json, let id = taskID(json), !id.isEmpty else {
            let (code, message) = error(reply.json)
            if code != nil || message != nil {
                throw SubmitAttemptError(mayHaveCreatedTask: false, error: .http(
                    provider: provider, operation: operation, status: reply.status, code: code, message: message))
            }
            throw SubmitAttemptError(mayHaveCreatedTask: true, error: .badResponse(
                provider: provider, operation: operation, "no task id in \(reply.excerpt)"))
        }
        return SubmittedTask(taskID: id, status: status(json))
    }

    /// Turns a non-2xx reply into a `ProviderError.http` with the provider's code and message.
    func failure(_ reply: HTTPReply, operation: String, error: (JSONValue?) -> (String?, String?)) -> ProviderError {
        let (code, message) = error(reply.json)
        return .http(provider: provider, operation: operation, status: reply.status, code: code,
                     message: message ?? (reply.json == nil ? reply.excerpt : nil))
    }
}

extension JSONValue {
    /// Compact JSON with slashes unescaped, as the providers' own examples are written.
    static func encode(_ value: JSONValue) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(value)
    }

    /// An object from optional members; nil values are left out.
    static func object(dropping members: [String: JSONValue?]) -> JSONValue {
        .object(members.compactMapValues { $0 })
    }

    static func string(_ text: String?) -> JSONValue? { text.map(JSONValue.string) }
    static func int(_ number: Int?) -> JSONValue? { number.map { .number(Decimal($0)) } }
    static func bool(_ flag: Bool?) -> JSONValue? { flag.map(JSONValue.bool) }

    /// A non-empty string member.
    func text(_ key: String) -> String? {
        guard let value = self[key]?.stringValue, !value.isEmpty else { return nil }
        return value
    }
}

/// Percent-encodes a query value.
func queryEscaped(_ text: String) -> String {
    var allowed = CharacterSet.urlQueryAllowed
    allowed.remove(charactersIn: "&=+?/#")
    return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
}

/// Removes a trailing slash from a base URL.
func trimmedBase(_ url: String) -> String {
    url.hasSuffix("/") ? String(url.dropLast()) : url
}
