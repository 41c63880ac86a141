import ClipKitCore
import Testing

/// A clip of `frames` frames at `fps` (its video duration is frames ÷ fps), at 832×480 unless given.
func clip(frames: Int, fps: Int, width: Int = 832, height: Int = 480, rate: Rational? = nil) -> MediaInfo {
    let seconds = Double(frames) / Double(fps)
    return MediaInfo(path: "clip.mp4", container: "mp4", duration: seconds,
                     video: VideoInfo(codec: "h264", width: width, height: height, frameRate: rate ?? Rational(fps, 1),
                                      frameCount: frames, duration: seconds))
}

@Suite("the as-billed rule: one judgement for verify, chain and audit")
struct AsBilledRuleTests {
    let rule = AsBilledRule()

    @Test("one frame short passes by default, a little more does not")
    func oneFrameTolerance() {
        #expect(rule.length(of: clip(frames: 150, fps: 30), billedSeconds: 5) == .asBilled)
        #expect(rule.length(of: clip(frames: 149, fps: 30), billedSeconds: 5) == .asBilled)
        guard case .short(let missing) = rule.length(of: clip(frames: 148, fps: 30), billedSeconds: 5) else {
            Issue.record("148 frames at 30 fps are short of 5 s")
            return
        }
        #expect(abs(missing - 2.0 / 30) < 1e-9)
    }

    @Test("the tolerance is counted at the clip's own frame rate")
    func clipRate() {
        // At 16 fps one frame is 62.5 ms: 79 of 80 frames pass for 5 s, 78 do not.
        #expect(rule.length(of: clip(frames: 79, fps: 16), billedSeconds: 5) == .asBilled)
        #expect(rule.length(of: clip(frames: 78, fps: 16), billedSeconds: 5) != .asBilled)
        // The same 4.9 s is one frame short at 10 fps but three at 30 fps.
        #expect(rule.length(of: clip(frames: 49, fps: 10), billedSeconds: 5) == .asBilled)
        #expect(rule.length(of: clip(frames: 147, fps: 30), billedSeconds: 5) != .asBilled)
    }

    @Test("exactly at the tolerance is as billed (no floating-point miss), fractions of a frame work")
    func edges() {
        let two = AsBilledRule(toleranceFrames: 2)
        #expect(two.length(of: clip(frames: 148, fps: 30), billedSeconds: 5) == .asBilled)
        #expect(two.length(of: clip(frames: 147, fps: 30), billedSeconds: 5) != .asBilled)
        let none = AsBilledRule(toleranceFrames: 0)
        #expect(none.length(of: clip(frames: 150, fps: 30), billedSeconds: 5) == .asBilled)
        #expect(none.length(of: clip(frames: 149, fps: 30), billedSeconds: 5) != .asBilled)
        let half = AsBilledRule(toleranceFrames: 0.5)
        #expect(half.length(of: clip(frames: 149, fps: 30), billedSeconds: 5) != .asBilled)
        #expect(half.length(of: clip(frames: 149, fps: 30), billedSeconds: 4.98) == .asBilled)
        #expect(abs(half.toleranceSeconds(for: clip(frames: 150, fps: 30)) - 1.0 / 60) < 1e-12)
    }

    @Test("longer than billed passes by default (never over-billed); only an exact rule refuses it")
    func longer() {
        // The open Wan model's 81 frames at 16 fps are 5.0625 s for 5 s billed.
        let wan = clip(frames: 81, fps: 16)
        #expect(rule.length(of: wan, billedSeconds: 5) == .asBilled)
        #expect(rule.length(of: clip(frames: 300, fps: 30), billedSeconds: 5) == .asBilled)
        let exact = AsBilledRule(toleranceFrames: 0, acceptsLonger: false)
        guard case .long(let extra) = exact.length(of: wan, billedSeconds: 5) else {
            Issue.record("81 frames at 16 fps are longer than 5 s")
            return
        }
        #expect(abs(extra - 0.0625) < 1e-9)
        #expect(AsBilledRule(toleranceFrames: 1, acceptsLonger: false).length(of: wan, billedSeconds: 5) == .asBilled)
    }

    @Test("without a clip rate the caller's rate counts, then the fallback; no duration is unmeasured")
    func rates() {
        var unknownRate = clip(frames: 149, fps: 30)
        unknownRate.video?.frameRate = Rational(0, 1)
        #expect(rule.toleranceSeconds(for: unknownRate) == 1.0 / 30)
        #expect(rule.toleranceSeconds(for: unknownRate, expectedFrameRate: 10) == 0.1)
        #expect(AsBilledRule(fallbackFrameRate: 24).toleranceSeconds(for: unknownRate) == 1.0 / 24)
        var noDuration = clip(frames: 150, fps: 30)
        noDuration.video?.duration = nil
        noDuration.duration = nil
        #expect(rule.length(of: noDuration, billedSeconds: 5) == .unmeasured)
        // The container's duration stands in for a video stream without one.
        var containerOnly = clip(frames: 150, fps: 30)
        containerOnly.video?.duration = nil
        #expect(AsBilledRule.deliveredSeconds(of: containerOnly) == 5)
    }

    @Test("tier: the billed tier is as billed; below it (or below every tier) is lower; above it higher")
    func tiers() {
        #expect(AsBilledRule.tier(of: clip(frames: 150, fps: 30), billed: .p480) == .asBilled)
        #expect(AsBilledRule.tier(of: clip(frames: 150, fps: 30, width: 480, height: 832), billed: .p480) == .asBilled)
        #expect(AsBilledRule.tier(of: clip(frames: 150, fps: 30, width: 1280, height: 720), billed: .p1080) == .lower)
        #expect(AsBilledRule.tier(of: clip(frames: 150, fps: 30, width: 640, height: 360), billed: .p480) == .lower)
        #expect(AsBilledRule.tier(of: clip(frames: 150, fps: 30, width: 1280, height: 720), billed: .p480) == .higher)
    }

    @Test("ClipRequirements applies the rule: one line per failed property, a long clip passes")
    func requirements() {
        let billed = ClipRequirements(tier: .p480, duration: 5, fps: 30, audio: false)
        #expect(billed.failures(of: clip(frames: 150, fps: 30)).isEmpty)
        #expect(billed.failures(of: clip(frames: 160, fps: 30)).isEmpty)
        let short = billed.failures(of: clip(frames: 126, fps: 30))
        #expect(short.map(\.property) == [.duration])
        #expect(short.first?.description == "duration: expected 5 s, at most 1 frame short, got 4.2 s, 126 frames")
        let wrong = billed.failures(of: clip(frames: 100, fps: 24, width: 1280, height: 720))
        #expect(wrong.map(\.property) == [.tier, .fps, .duration])
        let exact = ClipRequirements(duration: 5, rule: AsBilledRule(toleranceFrames: 0, acceptsLonger: false))
        #expect(exact.failures(of: clip(frames: 81, fps: 16)).map(\.description) == ["duration: expected 5 s ± 0 frames, got 5.063 s, 81 frames"])
        let unreadable = MediaInfo(path: "x.mp4", error: MediaProblem(.notMedia, "x.mp4: not a video"))
        #expect(billed.failures(of: unreadable).map(\.property) == [.file])
    }
}
