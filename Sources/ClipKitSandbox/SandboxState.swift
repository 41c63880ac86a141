import ClipKitCore
import ClipKitMedia
import Foundation

/// One task as the sandbox keeps it.
struct SandboxTask: Sendable {
    enum Phase: Sendable, Equatable {
        case queued, running, succeeded, failed(code: String, message: String), canceled
    }

    /// What the faults decided for this task when it was created.
    enum Outcome: Sendable { case normal, fail, blocked }

    let id: String
    let proto: SandboxProtocol
    let model: String
    let prompt: String
    /// The submitted body's input members, echoed in webhooks and listings.
    let input: JSONValue
    let createdAt: Date
    var phase: Phase = .queued
    var scheduledAt: Date?
    var endedAt: Date?
    let outcome: Outcome
    let spec: ClipSpec
    let tier: Tier
    /// Seconds billed (the duration asked for, or for s2v the voice's length to 0.01 s), whatever was rendered.
    let billedSeconds: Decimal
    let usageVariant: Int
    let expiredURL: Bool
    var cutsLeft: Int
    var fileToken: String?
    var filePath: String?
    let webhookURL: String?
}

/// The sandbox's memory: tasks, uploads, fault draws and counters. One actor owns all of it.
actor SandboxState {
    private(set) var faults: SandboxFaults
    private var generators: [String: SeededGenerator] = [:]
    private(set) var tasks: [String: SandboxTask] = [:]
    private var tokens: [String: String] = [:]
    private var media: [String: Data] = [:]
    private var mediaCounter = 0
    /// Tasks created per protocol (lost answers included): what "submitted twice" is measured by.
    private(set) var created: [SandboxProtocol: Int] = [:]
    /// Create requests received per protocol, refused ones included.
    private(set) var submitRequests: [SandboxProtocol: Int] = [:]
    /// Webhook deliveries attempted.
    private(set) var webhooksSent = 0
    /// Download requests carrying a `Range` header (resumes).
    private(set) var rangeRequests = 0
    /// Download requests cut by the `cutAfterBytes` fault.
    private(set) var cutDownloads = 0
    let directory: String
    /// `http://127.0.0.1:PORT`, known once the server listens; output URLs start with it.
    private(set) var baseURL = ""

    init(faults: SandboxFaults, directory: String) {
        self.faults = faults
        self.directory = directory
    }

    func setBaseURL(_ url: String) { baseURL = url }

    func setFaults(_ faults: SandboxFaults) {
        self.faults = faults
        generators = [:]
    }

    /// True with probability `rate`, from the stream for `kind` (deterministic for a seed).
    func draw(_ kind: String, rate: Double) -> Bool {
        guard rate > 0 else { return false }
        var generator = generators[kind] ?? SeededGenerator(seed: faults.seed ^ stableHash(kind))
        let value = generator.unit()
        generators[kind] = generator
        return value < rate
    }

    private var drivers: [Task<Void, Never>] = []

    /// Keeps a task's driver so `stopDrivers` can end it.
    func track(_ driver: Task<Void, Never>) { drivers.append(driver) }

    func stopDrivers() {
        drivers.forEach { $0.cancel() }
        drivers = []
    }

    func countSubmitRequest(_ proto: SandboxProtocol) { submitRequests[proto, default: 0] += 1 }

    func countWebhook() { webhooksSent += 1 }

    /// A fresh id in the provider's style: a UUID for DashScope, 32 hex digits for the others.
    func newID(_ proto: SandboxProtocol) -> String {
        let uuid = UUID().uuidString.lowercased()
        return proto == .dashscope ? uuid : uuid.replacingOccurrences(of: "-", with: "")
    }

    func add(_ task: SandboxTask) {
        tasks[task.id] = task
        created[task.proto, default: 0] += 1
    }

    func task(_ id: String) -> SandboxTask? { tasks[id] }

    /// Whether the task is past the expiry fault (answers as unknown).
    func isExpired(_ task: SandboxTask, now: Date = Date()) -> Bool {
        guard let limit = faults.expireTasksAfterMs else { return false }
        return now.timeIntervalSince(task.createdAt) * 1000 > Double(limit)
    }

    /// Moves a queued task to running; false if it was canceled meanwhile.
    func markRunning(_ id: String) -> Bool {
        guard var task = tasks[id], task.phase == .queued else { return false }
        task.phase = .running
        task.scheduledAt = Date()
        tasks[id] = task
        return true
    }

    func finish(_ id: String, phase: SandboxTask.Phase, filePath: String? = nil) {
        guard var task = tasks[id] else { return }
        task.phase = phase
        task.endedAt = Date()
        if let filePath {
            let token = String(format: "%016llx", stableHash(id + filePath))
            task.fileToken = token
            task.filePath = filePath
            tokens[token] = id
        }
        tasks[id] = task
    }

    /// Cancels a queued task; false when it is not queued.
    func cancel(_ id: String) -> Bool {
        guard var task = tasks[id], task.phase == .queued else { return false }
        task.phase = .canceled
        task.endedAt = Date()
        tasks[id] = task
        return true
    }

    /// The task serving a download token, and whether this transfer must be cut.
    func download(token: String, ranged: Bool) -> (task: SandboxTask, cut: Bool)? {
        guard let id = tokens[token], var task = tasks[id] else { return nil }
        if ranged { rangeRequests += 1 }
        let cut = faults.cutAfterBytes != nil && task.cutsLeft > 0 && !task.expiredURL
        if cut {
            task.cutsLeft -= 1
            tasks[id] = task
            cutDownloads += 1
        }
        return (task, cut)
    }

    func storeMedia(_ data: Data, ext: String) -> String {
        mediaCounter += 1
        let name = String(format: "%016llx", stableHash("media-\(mediaCounter)-\(data.count)-\(directory)")) + "." + ext
        media[name] = data
        return name
    }

    func media(_ name: String) -> Data? { media[name] }

    func allTasks() -> [SandboxTask] { tasks.values.sorted { $0.createdAt > $1.createdAt } }
}
