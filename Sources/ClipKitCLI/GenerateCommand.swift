import ArgumentParser
import ClipKitConsole
import ClipKitCore
import ClipKitProviders
import ClipKitSandbox
import Foundation

struct GenerateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Generate one clip with a provider: submit, poll, download, and record the task.",
        discussion: """
            t2v without images, i2v with --image, kf2v with --image and --last-image. Progress (queued,
            running, downloading) goes to stderr; the task record (provider, task id, request without
            secrets, status history, output URL, usage as billed, error) is written beside the clip as
            NAME.task.json and kept up to date, so an interrupted run continues with --resume.

            Keys come from DASHSCOPE_API_KEY, WAVESPEED_API_KEY, MODELVERSE_API_KEY or the config file
            ($CLIPKIT_CONFIG or ~/.config/clipkit/providers.json, {"dashscope": {"api_key": …, "base_url": …}});
            they are never printed or written. --provider sandbox talks to `clipkit sandbox` on
            127.0.0.1:8089 ($CLIPKIT_SANDBOX_URL), or starts one in-process when none answers.

            Examples:
              clipkit generate --provider sandbox --prompt "a lighthouse at dusk" -o clip.mp4
              clipkit generate --provider dashscope --model wan2.2-i2v-flash --image first.png \\
                --prompt "the camera pulls back" --resolution 720P -o clip.mp4
              clipkit generate --provider dashscope --base-url https://router.example/alibailian \\
                --model wan2.2-kf2v-flash --image a.png --last-image b.png --prompt "day to night" -o kf.mp4
              clipkit generate --provider wavespeed --model alibaba/wan-2.2/i2v-plus-480p --image a.png -o ws.mp4
              clipkit generate --provider modelverse --image a.png --prompt "she waves" -o mv.mp4
              clipkit generate --provider dashscope --resume -o clip.mp4

            Exit codes: 0 clip written; 1 the task failed, was refused or flagged, or its download was
            denied, or the provider could not be reached; 2 bad arguments, no key, or the output exists
            without --force; 3 an input image could not be read; 4 the clip or its record cannot be written
            (checked before anything is submitted).
            """
    )

    @OptionGroup var providerOptions: ProviderOptions

    @Option(help: "The provider's model name (default: Wan 2.2 for the mode).")
    var model: String?

    @Option(help: "What the clip shows.")
    var prompt: String = ""

    @Option(help: "Negative prompt.")
    var negativePrompt: String?

    @Option(help: "First frame (i2v, kf2v): a local image or an http(s) URL.")
    var image: String?

    @Option(help: "Last frame (kf2v): a local image or an http(s) URL.")
    var lastImage: String?

    @Option(help: "Tier: 480P, 720P or 1080P.")
    var resolution: String?

    @Option(help: "Explicit t2v size, e.g. 480*832.")
    var size: String?

    @Option(help: "Seconds of video.")
    var duration: Int?

    @Option(help: "Seed (0…2147483647).")
    var seed: Int?

    @Option(name: .customLong("audio"), help: "Audio on or off for models that make it (true/false).")
    var audio: Bool?

    @Option(help: "WaveSpeed: URL to receive the signed completion webhook.")
    var webhook: String?

    @Option(help: "Give up polling after this many seconds (the task stays resumable).")
    var deadline: Double = 3600

    @Option(name: .shortAndLong, help: "Output clip (.mp4); the record goes to NAME.task.json.")
    var output: String

    @Flag(help: "Continue the task in NAME.task.json instead of submitting a new one.")
    var resume = false

    @Flag(help: "Overwrite the clip and record if they exist.")
    var force = false

    func validate() throws {
        if !resume, prompt.isEmpty, image == nil { throw ValidationError("give --prompt (and/or --image for i2v)") }
        if lastImage != nil, image == nil { throw ValidationError("--last-image needs --image (kf2v takes both frames)") }
        if let resolution, Tier(parsing: resolution) == nil { throw ValidationError("--resolution must be 480P, 720P or 1080P, not '\(resolution)'") }
        if providerOptions.provider == nil { throw ValidationError("give --provider: dashscope, wavespeed, modelverse or sandbox") }
        if !output.lowercased().hasSuffix(".mp4") { throw ValidationError("--output must end in .mp4, not '\(output)'") }
        if deadline <= 0 { throw ValidationError("--deadline must be positive") }
    }

    func run() async throws {
        try await reportingFailures {
            let recordPath = TaskRecord.path(forClip: output)
            // Before anything is submitted (and paid for): the clip and its record must be writable.
            do {
                for path in [output, recordPath] { try OutputFile(path, overwrite: true).checkWritable() }
            } catch let error as OutputFileError {
                throw CLIFailure(error.exitStatus, error.description)
            }
            if !force, !resume, FileManager.default.fileExists(atPath: output) {
                throw CLIFailure(.usage, "\(output) already exists (use --force to overwrite)")
            }
            if !force, !resume, FileManager.default.fileExists(atPath: recordPath) {
                throw CLIFailure(.usage, "\(recordPath) exists: a task was already submitted for this clip; "
                    + "use --resume to continue it or --force to submit a new one")
            }
            let provider = providerOptions.provider!, baseURL = providerOptions.baseURL
            let kind = providerOptions.kind(for: provider)!
            let transport = HTTPTransport()
            var sandbox: SandboxServer?
            do {
                let client: any VideoProvider
                if provider == .sandbox {
                    let (base, started) = try await Self.sandboxBase(explicit: baseURL)
                    sandbox = started
                    let credentials = ProviderCredentials(apiKey: APIKey("sk-clipkit-sandbox"), baseURL: nil)
                    client = try kind.client(credentials: credentials, transport: transport, baseURL: base, webhookURL: webhook)
                } else {
                    let credentials: ProviderCredentials
                    do {
                        credentials = try ProviderCredentials.load(provider: kind.rawValue, configPath: providerOptions.config)
                    } catch {
                        throw CLIFailure(.usage, "\(error)")
                    }
                    client = try kind.client(credentials: credentials, transport: transport, baseURL: baseURL, webhookURL: webhook)
                }
                // The sandbox answers in about a second: poll it faster than a real provider.
                let poll: Duration = provider == .sandbox ? .milliseconds(250) : .seconds(3)
                let runner = TaskRunner(provider: client, transport: transport, options: RunnerOptions(
                    pollInterval: poll, deadline: .milliseconds(Int64(deadline * 1000)), overwrite: force))
                let progress = GenerateProgress()
                let result: RunResult
                if resume {
                    guard FileManager.default.fileExists(atPath: recordPath) else {
                        throw CLIFailure(.usage, "--resume: no task record at \(recordPath)")
                    }
                    let record = try RecordFile.read(recordPath)
                    Stderr.print("resuming \(record.provider) task \(record.taskID)")
                    result = try await runner.resume(record, clipPath: output, events: progress.report)
                } else {
                    let request = try makeRequest(kind: kind)
                    result = try await runner.run(request, clipPath: output, events: progress.report)
                }
                progress.finish()
                let video = result.media.video.map { "\($0.width)x\($0.height), \($0.frameCount.map(String.init) ?? "?") frames" } ?? "no video"
                Stderr.print("wrote \(output) (\(video), \(String(format: "%.2f", result.media.duration ?? 0)) s) and \(result.recordPath)")
                if result.contentFlagged {
                    throw CLIFailure(.checkFailed, "\(result.record.provider) flagged the output of task \(result.record.taskID) "
                        + "as unsafe content; the clip was saved but should not be used")
                }
            } catch let failure as CLIFailure {
                await Self.shutdown(transport, sandbox)
                throw failure
            } catch let error as ProviderError {
                await Self.shutdown(transport, sandbox)
                switch error {
                case .missingAPIKey, .invalidRequest: throw CLIFailure(.usage, error.description)
                default: throw CLIFailure(.checkFailed, error.description)
                }
            } catch let error as OutputFileError {
                await Self.shutdown(transport, sandbox)
                throw CLIFailure(error.exitStatus, error.description)
            } catch {
                await Self.shutdown(transport, sandbox)
                throw CLIFailure(.checkFailed, "\(error)")
            }
            await Self.shutdown(transport, sandbox)
        }
    }

    private func makeRequest(kind: ProviderKind) throws -> GenerationRequest {
        func input(_ reference: String) throws -> ImageInput {
            if reference.hasPrefix("http://") || reference.hasPrefix("https://") { return .url(reference) }
            guard FileManager.default.fileExists(atPath: reference) else {
                throw CLIFailure(.inputUnreadable, "image \(reference) does not exist")
            }
            return .file(reference)
        }
        var request = GenerationRequest(
            model: model ?? "", prompt: prompt, negativePrompt: negativePrompt, firstImage: try image.map(input),
            lastImage: try lastImage.map(input), resolution: resolution.flatMap(Tier.init(parsing:)), size: size,
            duration: duration, seed: seed, audio: audio)
        if request.model.isEmpty { request.model = kind.defaultModel(for: request.mode) }
        return request
    }

    /// The sandbox to use: an explicit URL, `$CLIPKIT_SANDBOX_URL`, one answering on 127.0.0.1:8089,
    /// or a new one in this process on a free port.
    /// - Parameter faults: for a new in-process sandbox (a running one keeps its own).
    static func sandboxBase(explicit: String?, faults: SandboxFaults? = nil) async throws -> (String, SandboxServer?) {
        if let explicit { return (explicit, nil) }
        let candidate = ProcessInfo.processInfo.environment["CLIPKIT_SANDBOX_URL"] ?? "http://127.0.0.1:8089"
        if faults == nil, await SandboxProbe.answers(candidate) { return (candidate, nil) }
        let server = try await SandboxServer.start(SandboxConfiguration(port: 0, faults: faults ?? SandboxFaults(queueMs: 300, runMs: 600)))
        Stderr.print("started an in-process sandbox on \(server.baseURL)")
        return (server.baseURL, server)
    }

    static func shutdown(_ transport: HTTPTransport, _ sandbox: SandboxServer?) async {
        try? await transport.shutdown()
        await sandbox?.stop()
    }
}

/// Checks whether a sandbox answers at a base URL (GET /sandbox/stats).
enum SandboxProbe {
    static func answers(_ base: String) async -> Bool {
        let transport = HTTPTransport(connectTimeout: .milliseconds(300), readTimeout: .seconds(2), requestTimeout: .seconds(2))
        let reachable = await transport.isReachable(base + "/sandbox/stats")
        try? await transport.shutdown()
        return reachable
    }
}
