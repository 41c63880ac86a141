import ArgumentParser
import ClipKitConsole
import ClipKitCore
import ClipKitProviders
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
        let recordPath = TaskRecord.path(forClip: output)
        // Before anything is submitted (and paid for): the clip and its record must be writable.
        for path in [output, recordPath] { try OutputFile(path, overwrite: true).checkWritable() }
        if !force, !resume, FileManager.default.fileExists(atPath: output) {
            throw CLIFailure(.usage, "\(output) already exists (use --force to overwrite)")
        }
        if !force, !resume, FileManager.default.fileExists(atPath: recordPath) {
            throw CLIFailure(.usage, "\(recordPath) exists: a task was already submitted for this clip; "
                + "use --resume to continue it or --force to submit a new one")
        }
        if resume, !FileManager.default.fileExists(atPath: recordPath) {
            throw CLIFailure(.usage, "--resume: no task record at \(recordPath)")
        }
        let provider = providerOptions.provider!
        let kind = providerOptions.kind(for: provider)!
        let request = resume ? nil : try makeRequest(kind: kind)
        try await ProviderSession.run(providerOptions, provider: provider, kind: kind) { session in
            let runner = TaskRunner(provider: try session.client(webhookURL: webhook), transport: session.transport,
                                    options: RunnerOptions(pollInterval: session.pollInterval,
                                                           deadline: .milliseconds(Int64(deadline * 1000)), overwrite: force))
            let progress = GenerateProgress()
            defer { progress.finish() }
            let result: RunResult
            if let request {
                result = try await runner.run(request, clipPath: output, events: progress.report)
            } else {
                let record = try RecordFile.read(recordPath)
                Stderr.print("resuming \(record.provider) task \(record.taskID)")
                result = try await runner.resume(record, clipPath: output, events: progress.report)
            }
            progress.finish()
            let video = result.media.video.map { "\($0.width)x\($0.height), \($0.frameCount.map(String.init) ?? "?") frames" } ?? "no video"
            Stderr.print("wrote \(output) (\(video), \(String(format: "%.2f", result.media.duration ?? 0)) s) and \(result.recordPath)")
            if result.contentFlagged {
                throw CLIFailure(.checkFailed, "\(result.record.provider) flagged the output of task \(result.record.taskID) "
                    + "as unsafe content; the clip was saved but should not be used")
            }
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
}
