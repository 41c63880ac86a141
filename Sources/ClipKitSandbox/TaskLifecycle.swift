import ClipKitCore
import ClipKitMedia
import Foundation
import Hummingbird

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

extension Handlers {
    /// One render at a time, off the cooperative pool: rendering blocks on FFmpeg.
    static let renderQueue = DispatchQueue(label: "clipkit.sandbox.render")

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
                            prompt: plan.prompt, seed: seed)
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
}
