import ClipKitCore
import Foundation

/// Why a provider call or a generation failed. Every case names the provider and, where there is
/// one, the task, URL or file, so a message read alone in a log says what to look at.
public enum ProviderError: ClipKitError {
    /// What went wrong, for a program to switch on (one code per case).
    public enum Code: String, Sendable, Hashable, Codable, CaseIterable {
        case missingAPIKey, configUnreadable, invalidRequest, modeUnsupported, imageUnreadable, audioUnreadable,
             recordUnreadable, http, transport, badResponse, submissionUncertain, taskFailed, taskExpired,
             deadlineExceeded, downloadExpired, downloadFailed, cancelUnsupported
    }

    /// No API key for `provider` in the environment variable or the config file.
    case missingAPIKey(provider: String, variable: String)
    /// The config file of keys and base URLs does not exist or is not the expected JSON.
    case configUnreadable(provider: String, path: String, String)
    /// The request cannot be sent as asked (an unsupported mode for a model, an operation the provider lacks).
    case invalidRequest(provider: String, String)
    /// The provider offers no such generation (s2v anywhere but DashScope and its routers). Nothing was sent.
    case modeUnsupported(provider: String, mode: GenerationMode, model: String)
    /// A first or last frame could not be read or encoded (`image` is its path or a label).
    case imageUnreadable(provider: String, image: String, String)
    /// An s2v voice track could not be read, or holds no sound (`audio` is its path).
    case audioUnreadable(provider: String, audio: String, String)
    /// A saved task record (`NAME.task.json`) could not be read.
    case recordUnreadable(path: String, String)
    /// The provider answered with an error status and body; `code`/`message` are the provider's own.
    case http(provider: String, operation: String, status: Int, code: String?, message: String?)
    /// The connection failed or timed out and retries ran out.
    case transport(provider: String, operation: String, String)
    /// The provider's answer could not be read.
    case badResponse(provider: String, operation: String, String)
    /// A submission may or may not have created a task (its answer was lost) and the provider
    /// offers no way to look for it, or the lookup was ambiguous. Nothing is resubmitted.
    case submissionUncertain(provider: String, model: String, since: Date, candidates: [String], String)
    /// The task ended in a failed state (FAILED, failed, Failure, CANCELED…).
    case taskFailed(provider: String, taskID: String, status: String, code: String?, message: String?)
    /// The task is unknown to the provider (DashScope UNKNOWN, ModelVerse Expired): older than its
    /// retention or never existed.
    case taskExpired(provider: String, taskID: String, status: String)
    /// The overall deadline passed before the task finished; the task may still be running.
    case deadlineExceeded(provider: String, taskID: String, lastStatus: String?, seconds: Double)
    /// The output URL answered with an XML/HTML error page (object storage's AccessDenied or
    /// expired signature) instead of a video.
    case downloadExpired(taskID: String, url: String, status: Int, detail: String)
    /// The download failed: wrong status, cut too often, size mismatch, or a file that does not
    /// probe as a clip.
    case downloadFailed(taskID: String, url: String, String)
    /// The provider has no cancel operation, or refused to cancel in the task's state.
    case cancelUnsupported(provider: String, taskID: String, String)

    public var code: Code {
        switch self {
        case .missingAPIKey: .missingAPIKey
        case .configUnreadable: .configUnreadable
        case .invalidRequest: .invalidRequest
        case .modeUnsupported: .modeUnsupported
        case .imageUnreadable: .imageUnreadable
        case .audioUnreadable: .audioUnreadable
        case .recordUnreadable: .recordUnreadable
        case .http: .http
        case .transport: .transport
        case .badResponse: .badResponse
        case .submissionUncertain: .submissionUncertain
        case .taskFailed: .taskFailed
        case .taskExpired: .taskExpired
        case .deadlineExceeded: .deadlineExceeded
        case .downloadExpired: .downloadExpired
        case .downloadFailed: .downloadFailed
        case .cancelUnsupported: .cancelUnsupported
        }
    }

    public var description: String {
        switch self {
        case .missingAPIKey(let provider, let variable):
            return "no API key for \(provider): set \(variable) or add it to the config file"
        case .configUnreadable(let provider, let path, let message):
            return "\(provider): config file \(path) \(message)"
        case .invalidRequest(let provider, let message):
            return "\(provider): \(message)"
        case .modeUnsupported(let provider, let mode, let model):
            let offered = ProviderKind.allCases.filter { $0.supports(mode) }.map(\.rawValue).joined(separator: ", ")
            return "\(provider) offers no \(mode.rawValue) generation (asked for \(model)); \(mode.rawValue) is offered by \(offered)"
        case .imageUnreadable(let provider, let image, let message):
            return "\(provider): image \(image): \(message)"
        case .audioUnreadable(let provider, let audio, let message):
            return "\(provider): audio \(audio): \(message)"
        case .recordUnreadable(let path, let message):
            return "cannot read task record \(path): \(message)"
        case .http(let provider, let operation, let status, let code, let message):
            let detail = [code, message].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: ": ")
            return "\(provider) \(operation) failed with HTTP \(status)" + (detail.isEmpty ? "" : ": \(detail)")
        case .transport(let provider, let operation, let message):
            return "\(provider) \(operation) failed: \(message)"
        case .badResponse(let provider, let operation, let message):
            return "\(provider) \(operation): unreadable answer: \(message)"
        case .submissionUncertain(let provider, let model, let since, let candidates, let message):
            let when = ISO8601DateFormatter().string(from: since)
            let found = candidates.isEmpty ? "" : " (candidate tasks: \(candidates.joined(separator: ", ")))"
            return "\(provider) submit of \(model) at \(when) may have created a task: \(message)\(found); "
                + "not resubmitted — check the provider's console before trying again"
        case .taskFailed(let provider, let taskID, let status, let code, let message):
            let detail = [code, message].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: ": ")
            return "\(provider) task \(taskID) ended \(status)" + (detail.isEmpty ? "" : ": \(detail)")
        case .taskExpired(let provider, let taskID, let status):
            return "\(provider) task \(taskID) is \(status): unknown to the provider (expired or never created)"
        case .deadlineExceeded(let provider, let taskID, let lastStatus, let seconds):
            return "\(provider) task \(taskID) not finished after \(Int(seconds.rounded())) s (last status "
                + "\(lastStatus ?? "none")); it may still be running — resume it from its task record"
        case .downloadExpired(let taskID, let url, let status, let detail):
            return "download URL expired or denied for task \(taskID) (HTTP \(status)\(detail.isEmpty ? "" : ", \(detail)")): \(url)"
        case .downloadFailed(let taskID, let url, let message):
            return "download of task \(taskID) from \(url) failed: \(message)"
        case .cancelUnsupported(let provider, let taskID, let message):
            return "\(provider) cannot cancel task \(taskID): \(message)"
        }
    }

    /// True for errors that a later attempt may not repeat (rate limits, server errors, network).
    public var isTransient: Bool {
        switch self {
        case .http(_, _, let status, _, _): return status == 429 || status >= 500
        case .transport: return true
        default: return false
        }
    }
}
