import Foundation

/// A provider-neutral account of one generation task, written by the provider clients as
/// `NAME.task.json` beside the clip `NAME.mp4` and read back by `clipkit audit`.
///
/// It keeps what an auditor needs and nothing secret: who ran the task, what was asked, how the
/// status moved, where the output came from, and the usage exactly as the provider billed it.
public struct TaskRecord: Sendable, Hashable, Codable {
    /// The value of `kind` that marks a JSON object as a task record.
    public static let kindMarker = "clipkit.task"
    /// The suffix that replaces a clip's extension: `clip.mp4` → `clip.task.json`.
    public static let fileSuffix = ".task.json"
    public static let currentVersion = 1

    /// Always `clipkit.task`; lets a reader recognise the format among provider payloads.
    public var kind: String
    public var version: Int
    /// Lower-case provider name: `dashscope`, `wavespeed`, `modelverse`, or a router's name.
    public var provider: String
    /// The model as the provider names it: `wan2.2-t2v-plus`, `alibaba/wan-2.2/i2v-plus-480p`, …
    public var model: String
    public var taskID: String
    /// The API base the task was sent to, without credentials (`https://dashscope-intl.aliyuncs.com`).
    public var endpoint: String?
    /// The request body as sent, minus secrets (see `sanitized(_:)`).
    public var request: JSONValue?
    /// Every status the client saw, oldest first, in the provider's own words (`SUCCEEDED`, `completed`).
    public var statusHistory: [StatusChange]
    public var outputURL: String?
    /// The downloaded clip's file name, relative to this record's folder.
    public var outputFile: String?
    /// The provider's `usage` object exactly as returned: the basis of the bill.
    public var usage: JSONValue?
    /// True when the provider flagged the output (WaveSpeed `has_nsfw_contents`, DashScope
    /// `DataInspectionFailed`).
    public var contentFlagged: Bool?
    public var error: TaskError?
    /// Seconds of the voice track sent with an s2v task, as decoded before submitting: the length the
    /// clip (and its bill) should follow. Nil for other modes, or an audio URL ClipKit did not fetch.
    public var inputAudioDuration: Double?

    /// One observed status and when the client saw it.
    public struct StatusChange: Sendable, Hashable, Codable {
        public var status: String
        public var at: Date

        public init(status: String, at: Date) {
            self.status = status
            self.at = at
        }
    }

    /// The provider's error code and message for a failed task.
    public struct TaskError: Sendable, Hashable, Codable {
        public var code: String?
        public var message: String?

        public init(code: String?, message: String?) {
            self.code = code
            self.message = message
        }
    }

    public init(
        provider: String, model: String, taskID: String, endpoint: String? = nil, request: JSONValue? = nil,
        statusHistory: [StatusChange] = [], outputURL: String? = nil, outputFile: String? = nil,
        usage: JSONValue? = nil, contentFlagged: Bool? = nil, error: TaskError? = nil, inputAudioDuration: Double? = nil
    ) {
        self.kind = Self.kindMarker
        self.version = Self.currentVersion
        self.provider = provider
        self.model = model
        self.taskID = taskID
        self.endpoint = endpoint
        self.request = request
        self.statusHistory = statusHistory
        self.outputURL = outputURL
        self.outputFile = outputFile
        self.usage = usage
        self.contentFlagged = contentFlagged
        self.error = error
        self.inputAudioDuration = inputAudioDuration
    }

    /// The latest status seen, if any.
    public var status: String? { statusHistory.last?.status }

    /// Where the record for `clipPath` lives: the clip's extension replaced by `.task.json`.
    public static func path(forClip clipPath: String) -> String {
        let url = URL(fileURLWithPath: clipPath)
        return url.deletingPathExtension().path + fileSuffix
    }

    /// An encoder writing the stable on-disk form: sorted keys, ISO 8601 dates.
    public static func makeEncoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }

    /// The decoder matching `makeEncoder()`.
    public static func makeDecoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }

    /// Object keys whose values are never written to a task record.
    public static let secretKeys: Set<String> = [
        "authorization", "api_key", "apikey", "key", "token", "access_token", "secret", "password", "signature",
    ]

    /// `request` with secrets removed and inline images shortened: keys in `secretKeys` (any case)
    /// are dropped, and `data:` URIs become `data:…;base64,<N bytes>` so a record stays small.
    public static func sanitized(_ request: JSONValue) -> JSONValue {
        switch request {
        case .object(let members):
            var kept: [String: JSONValue] = [:]
            for (key, value) in members where !secretKeys.contains(key.lowercased()) {
                kept[key] = sanitized(value)
            }
            return .object(kept)
        case .array(let items):
            return .array(items.map(sanitized))
        case .string(let text) where text.hasPrefix("data:"):
            let header = text.prefix { $0 != "," }
            return .string("\(header),<\(text.utf8.count - header.utf8.count - 1) bytes>")
        default:
            return request
        }
    }
}
