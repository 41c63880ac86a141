import ClipKitCore
import Foundation

/// What can go wrong in the sandbox, and how slow it is. Loaded from a JSON faults file
/// (`clipkit sandbox --faults FILE`) or set per test; every member is optional in the file.
///
/// Rates are probabilities in 0…1 drawn from a generator seeded with `seed`, one stream per kind of
/// fault, so the same requests in the same order meet the same faults on every run.
public struct SandboxFaults: Sendable, Hashable, Codable {
    /// Seed of the fault draws.
    public var seed: UInt64
    /// Added before answering every API call (not downloads), in milliseconds.
    public var latencyMs: Int
    /// How long a task stays queued (PENDING / created / Pending), in milliseconds.
    public var queueMs: Int
    /// How long a task runs at least (RUNNING / processing / Running), in milliseconds; rendering
    /// the clip may take longer.
    public var runMs: Int
    /// Share of API calls answered 429 (with `Retry-After: retryAfterSeconds`), creating nothing.
    public var rate429: Double
    /// Share of API calls answered 500, creating nothing.
    public var rate500: Double
    public var retryAfterSeconds: Int
    /// Share of submissions whose task is created but whose answer is lost (the connection closes):
    /// the case where a client must look for the task instead of submitting again.
    public var lostSubmitRate: Double
    /// Share of tasks that end failed (DashScope `InternalError.Algo`, WaveSpeed/ModelVerse failure).
    public var failRate: Double
    /// Share of tasks refused for content: DashScope FAILED `DataInspectionFailed`, WaveSpeed
    /// completed with `has_nsfw_contents: [true]`, ModelVerse Failure with a moderation message.
    public var blockedRate: Double
    /// Share of finished tasks whose output URL answers 403 with object storage's XML error body.
    public var expiredURLRate: Double
    /// Close download connections after this many bytes of the body (nil: never). `Range` is served,
    /// so a client can resume.
    public var cutAfterBytes: Int?
    /// How many downloads of each clip are cut before one is let through.
    public var cutTimes: Int
    /// Share of clips rendered 4.2 s long while billed as 5 s.
    public var shortClipRate: Double
    /// Share of clips rendered at another tier than asked (480P ↔ 720P) while billed as asked.
    public var wrongTierRate: Double
    /// Tasks older than this answer as unknown (DashScope UNKNOWN, ModelVerse Expired, WaveSpeed 404).
    public var expireTasksAfterMs: Int?

    public init(seed: UInt64 = 1, latencyMs: Int = 0, queueMs: Int = 1500, runMs: Int = 3000, rate429: Double = 0,
                rate500: Double = 0, retryAfterSeconds: Int = 1, lostSubmitRate: Double = 0, failRate: Double = 0,
                blockedRate: Double = 0, expiredURLRate: Double = 0, cutAfterBytes: Int? = nil, cutTimes: Int = 1,
                shortClipRate: Double = 0, wrongTierRate: Double = 0, expireTasksAfterMs: Int? = nil) {
        self.seed = seed
        self.latencyMs = latencyMs
        self.queueMs = queueMs
        self.runMs = runMs
        self.rate429 = rate429
        self.rate500 = rate500
        self.retryAfterSeconds = retryAfterSeconds
        self.lostSubmitRate = lostSubmitRate
        self.failRate = failRate
        self.blockedRate = blockedRate
        self.expiredURLRate = expiredURLRate
        self.cutAfterBytes = cutAfterBytes
        self.cutTimes = cutTimes
        self.shortClipRate = shortClipRate
        self.wrongTierRate = wrongTierRate
        self.expireTasksAfterMs = expireTasksAfterMs
    }

    /// No faults and millisecond timings: what tests start from.
    public static let fast = SandboxFaults(queueMs: 20, runMs: 40, retryAfterSeconds: 0)

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = SandboxFaults()
        seed = try c.decodeIfPresent(UInt64.self, forKey: .seed) ?? d.seed
        latencyMs = try c.decodeIfPresent(Int.self, forKey: .latencyMs) ?? d.latencyMs
        queueMs = try c.decodeIfPresent(Int.self, forKey: .queueMs) ?? d.queueMs
        runMs = try c.decodeIfPresent(Int.self, forKey: .runMs) ?? d.runMs
        rate429 = try c.decodeIfPresent(Double.self, forKey: .rate429) ?? d.rate429
        rate500 = try c.decodeIfPresent(Double.self, forKey: .rate500) ?? d.rate500
        retryAfterSeconds = try c.decodeIfPresent(Int.self, forKey: .retryAfterSeconds) ?? d.retryAfterSeconds
        lostSubmitRate = try c.decodeIfPresent(Double.self, forKey: .lostSubmitRate) ?? d.lostSubmitRate
        failRate = try c.decodeIfPresent(Double.self, forKey: .failRate) ?? d.failRate
        blockedRate = try c.decodeIfPresent(Double.self, forKey: .blockedRate) ?? d.blockedRate
        expiredURLRate = try c.decodeIfPresent(Double.self, forKey: .expiredURLRate) ?? d.expiredURLRate
        cutAfterBytes = try c.decodeIfPresent(Int.self, forKey: .cutAfterBytes)
        cutTimes = try c.decodeIfPresent(Int.self, forKey: .cutTimes) ?? d.cutTimes
        shortClipRate = try c.decodeIfPresent(Double.self, forKey: .shortClipRate) ?? d.shortClipRate
        wrongTierRate = try c.decodeIfPresent(Double.self, forKey: .wrongTierRate) ?? d.wrongTierRate
        expireTasksAfterMs = try c.decodeIfPresent(Int.self, forKey: .expireTasksAfterMs)
    }

    /// Reads a faults file.
    /// - Throws: an error naming the file and the bad member.
    public static func load(_ path: String) throws -> SandboxFaults {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw SandboxError("cannot read faults file \(path): \(error.localizedDescription)", code: .invalidFaults)
        }
        do {
            return try JSONDecoder().decode(SandboxFaults.self, from: data)
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.dataCorrupted(context) {
            let key = context.codingPath.map(\.stringValue).joined(separator: ".")
            throw SandboxError("faults file \(path): bad \"\(key)\": \(context.debugDescription)", code: .invalidFaults)
        } catch {
            throw SandboxError("faults file \(path) is not a JSON object: \(error)", code: .invalidFaults)
        }
    }
}

/// A sandbox failure with its explanation.
public struct SandboxError: ClipKitError {
    public enum Code: String, Sendable, Hashable, Codable, CaseIterable {
        /// The faults file cannot be read or is not a faults object.
        case invalidFaults
        /// The port cannot be bound, or the folder for clips cannot be made.
        case cannotStart
        /// A fault the sandbox injected on purpose (a dropped answer, a cut download).
        case injectedFault
        /// Anything else.
        case failed
    }

    public var code: Code
    public var description: String

    public init(_ description: String, code: Code = .failed) {
        self.code = code
        self.description = description
    }
}

/// SplitMix64: small, fast, and the same on every platform, unlike `SystemRandomNumberGenerator`.
struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A draw in 0..<1.
    mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }
}

/// Stable 64-bit FNV-1a of text (Swift's `hashValue` changes per process).
func stableHash(_ text: String) -> UInt64 {
    var hash: UInt64 = 0xCBF2_9CE4_8422_2325
    for byte in text.utf8 {
        hash ^= UInt64(byte)
        hash = hash &* 0x0000_0100_0000_01B3
    }
    return hash
}
