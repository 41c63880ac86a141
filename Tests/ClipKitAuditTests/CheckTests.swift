import ClipKitAudit
import ClipKitCore
import Foundation
import Testing

/// Each check triggered by a constructed case, asserted on its code and the amount over-billed.
@Suite struct CheckTests {
    let book = PriceBook.builtIn

    func findings(_ task: BilledTask, _ media: MediaInfo?, options: AuditOptions = AuditOptions()) -> [Finding] {
        Checks.run(task, media: media, priceBook: book, options: options)
    }

    @Test func aClipAsBilledHasNoFindings() {
        #expect(findings(dashScopeTask(), clip()).isEmpty)
        // The open model's 81 frames at 16 fps (5.0625 s) covers 5 s billed.
        #expect(findings(dashScopeTask(), clip(width: 480, height: 832, fps: 16, frames: 81)).isEmpty)
    }

    @Test func durationShort() throws {
        // wan2.2-i2v-flash 480P, 5 s billed = 0.50 CNY; 4.2 s delivered: 0.8 s missing = 0.08 CNY.
        let result = findings(dashScopeTask(), clip(frames: 126))
        let finding = try #require(result.first)
        #expect(result.count == 1)
        #expect(finding.code == .durationShort)
        #expect(finding.severity == .error)
        #expect(finding.overBilled == cny("0.08"))
        #expect(finding.message.contains("task-1"))
        #expect(finding.message.contains("clip.mp4"))
    }

    @Test func durationToleranceIsOneFrameAndConfigurable() {
        // 149 frames at 30 fps: one frame short, within the default tolerance.
        #expect(findings(dashScopeTask(), clip(frames: 149)).isEmpty)
        // 148 frames is two frames short.
        #expect(findings(dashScopeTask(), clip(frames: 148)).map(\.code) == [.durationShort])
        #expect(findings(dashScopeTask(), clip(frames: 148), options: AuditOptions(toleranceFrames: 2)).isEmpty)
    }

    @Test func durationShortOnPerClipPricingIsProRata() throws {
        // WaveSpeed bills a 5 s clip $0.20 even if short; 4 s delivered is 1/5 of the clip missing: $0.04.
        let rule = try #require(book.rule(provider: "wavespeed", model: "alibaba/wan-2.2/i2v-plus-480p", tier: .p480))
        let task = BilledTask(
            taskID: "p1", provider: "wavespeed", model: rule.model, tier: .p480, tierSource: .model,
            billedSeconds: 5, charge: rule.charge(seconds: nil), expectedCharge: rule.charge(seconds: nil),
            rule: rule, audio: .none, clip: "p1.mp4")
        let finding = try #require(findings(task, clip("p1.mp4", frames: 120)).first)
        #expect(finding.code == .durationShort)
        #expect(finding.overBilled == usd("0.04"))
    }

    @Test func tierMismatchBillsTheDifferenceToTheDeliveredTier() throws {
        // "1080P" billed 2.40 CNY, 1280×720 delivered: 720P costs 1.00 CNY, 1.40 CNY over-billed.
        let finding = try #require(findings(dashScopeTask(tier: .p1080), clip(width: 1280, height: 720)).first)
        #expect(finding.code == .tierMismatch)
        #expect(finding.severity == .error)
        #expect(finding.overBilled == cny("1.40"))
    }

    @Test func tierMismatchFallsToTheBestPricedTierBelow() throws {
        // wan2.2-t2v-plus has no 720P price: a 720p clip billed as 1080P (3.50) is worth the 480P price (0.70).
        let finding = try #require(
            findings(dashScopeTask("wan2.2-t2v-plus", tier: .p1080), clip(width: 1280, height: 720)).first)
        #expect(finding.overBilled == cny("2.80"))
        // Below every tier (640×360): the whole charge.
        let tiny = try #require(findings(dashScopeTask(tier: .p480), clip(width: 640, height: 360)).first)
        #expect(tiny.code == .tierMismatch)
        #expect(tiny.overBilled == cny("0.50"))
    }

    @Test func aHigherTierThanBilledIsAWarningWorthNothing() throws {
        let finding = try #require(findings(dashScopeTask(tier: .p480), clip(width: 1920, height: 1080)).first)
        #expect(finding.code == .tierMismatch)
        #expect(finding.severity == .warning)
        #expect(finding.overBilled == cny("0"))
    }

    @Test func aTierAssumedFromTheClipIsNeverMismatched() {
        var task = dashScopeTask(tier: .p1080)
        task.tierSource = .clip
        #expect(findings(task, clip(width: 1280, height: 720)).isEmpty)
    }

    @Test func frameCountInconsistent() throws {
        // Claims 30 fps for 5 s but holds 120 frames.
        let finding = try #require(findings(dashScopeTask(), clip(fps: 30, frames: 120, duration: 5)).first)
        #expect(finding.code == .frameCountInconsistent)
        #expect(finding.severity == .warning)
        #expect(finding.overBilled == cny("0"))
    }

    @Test func audioMissingAndUnexpected() throws {
        let wan25 = dashScopeTask("wan2.5-t2v-preview", tier: .p720)
        let missing = try #require(findings(wan25, clip(width: 1280, height: 720, fps: 24, frames: 120)).first)
        #expect(missing.code == .audioMissing)
        #expect(missing.severity == .warning)
        #expect(missing.overBilled == cny("0"))
        #expect(findings(wan25, clip(width: 1280, height: 720, fps: 24, frames: 120, audio: true)).isEmpty)

        let unexpected = try #require(findings(dashScopeTask(), clip(audio: true)).first)
        #expect(unexpected.code == .audioUnexpected)
        #expect(unexpected.overBilled == cny("0"))
        // s2v carries the voice sent: a clip with it (as long as the video) is fine.
        #expect(findings(dashScopeTask("wan2.2-s2v"), clip(audio: true)).isEmpty)
        // wan2.5 with audio switched off in the request.
        var silent = wan25
        silent.audio = .none
        #expect(findings(silent, clip(width: 1280, height: 720, fps: 24, frames: 120)).isEmpty)
    }

    @Test func clipMissing() throws {
        let unmatched = try #require(findings(dashScopeTask(tier: .p1080, clip: nil), nil).first)
        #expect(unmatched.code == .clipMissing)
        #expect(unmatched.overBilled == cny("2.40"))
        let gone = MediaInfo(path: "gone.mp4", error: MediaProblem(.notFound, "gone.mp4: no such file"))
        let manifestPath = try #require(findings(dashScopeTask(clip: "gone.mp4"), gone).first)
        #expect(manifestPath.code == .clipMissing)
        #expect(manifestPath.overBilled == cny("0.50"))
    }

    @Test(arguments: [MediaProblem.Code.notMedia, .empty, .noVideo, .unreadable])
    func notVideo(code: MediaProblem.Code) throws {
        let media = MediaInfo(path: "x.mp4", fileSize: 366, error: MediaProblem(code, "x.mp4: \(code.rawValue)"))
        let result = findings(dashScopeTask("wan2.5-t2v-preview", clip: "x.mp4"), media)
        #expect(result.map(\.code) == [.notVideo])
        #expect(result.first?.overBilled == cny("1.50"))
    }

    @Test func truncated() throws {
        let header = clip(error: MediaProblem(.truncated, "clip.mp4: file is cut short inside its 'mdat' box"))
        let cut = try #require(findings(dashScopeTask("wan2.2-t2v-plus"), header).first)
        #expect(cut.code == .truncated)
        #expect(cut.overBilled == cny("0.70"))
        // A deep probe that decoded fewer frames than the index holds, or hit decode errors.
        #expect(findings(dashScopeTask("wan2.2-t2v-plus"), clip(decodedFrames: 92)).map(\.code) == [.truncated])
        #expect(
            findings(dashScopeTask("wan2.2-t2v-plus"), clip(decodedFrames: 150, decodeErrors: 3)).first?.overBilled
                == cny("0.70"))
        #expect(findings(dashScopeTask("wan2.2-t2v-plus"), clip(decodedFrames: 150, decodeErrors: 0)).isEmpty)
    }

    @Test func failedButBilled() throws {
        var task = dashScopeTask("wan2.2-t2v-plus", clip: nil)
        task.status = .failed
        task.providerStatus = "FAILED"
        task.errorCode = "InternalError.Timeout"
        let result = findings(task, nil)
        #expect(result.map(\.code) == [.failedButBilled])  // no clipMissing on top: a failed task has none
        #expect(result.first?.overBilled == cny("0.70"))
        task.status = .canceled
        #expect(findings(task, nil).first?.code == .failedButBilled)
    }

    @Test func contentFlaggedButBilled() throws {
        var blocked = dashScopeTask("wan2.5-t2v-preview", clip: nil, charge: cny("1.50"))
        blocked.status = .failed
        blocked.errorCode = "DataInspectionFailed"
        blocked.contentFlagged = true
        let result = findings(blocked, nil)
        #expect(result.map(\.code) == [.contentFlaggedButBilled])
        #expect(result.first?.overBilled == cny("1.50"))

        let rule = try #require(book.rule(provider: "wavespeed", model: "alibaba/wan-2.2/i2v-plus-480p", tier: nil))
        let nsfw = BilledTask(
            taskID: "p1", provider: "wavespeed", model: rule.model, contentFlagged: true, tier: .p480,
            charge: usd("0.20"), rule: rule, clip: "p1.mp4")
        let flagged = try #require(findings(nsfw, clip("p1.mp4")).first)
        #expect(flagged.code == .contentFlaggedButBilled)
        #expect(flagged.overBilled == usd("0.20"))
    }

    @Test func amountMismatch() throws {
        // A bill of 1.20 CNY for 5 s of wan2.2-t2v-plus 480P, which costs 0.70.
        let over = findings(dashScopeTask("wan2.2-t2v-plus", charge: cny("1.20")), clip())
        #expect(over.map(\.code) == [.amountMismatch])
        #expect(over.first?.overBilled == cny("0.50"))
        #expect(over.first?.severity == .error)
        // Under-billing is worth knowing but costs nothing.
        let under = findings(dashScopeTask("wan2.2-t2v-plus", charge: cny("0.50")), clip())
        #expect(under.first?.severity == .warning)
        #expect(under.first?.overBilled == cny("0"))
        #expect(findings(dashScopeTask("wan2.2-t2v-plus", charge: cny("0.70")), clip()).isEmpty)
    }

    @Test func duplicateBilling() {
        let task = dashScopeTask(tier: .p1080)
        let finding = Checks.duplicateBilling(
            task, charge: cny("2.40"), at: RecordLocation(file: "bill.csv", line: 3),
            first: RecordLocation(file: "bill.csv", line: 2))
        #expect(finding.code == .duplicateBilling)
        #expect(finding.overBilled == cny("2.40"))
        #expect(finding.message.contains("bill.csv:3"))
        #expect(finding.message.contains("bill.csv:2"))
    }

    @Test func unpriced() throws {
        let rule = try #require(book.rule(provider: "modelverse", model: "Wan-AI/Wan2.2-I2V", tier: .p480))
        let task = BilledTask(
            taskID: "mv", provider: "modelverse", model: rule.model, tier: .p480, charge: nil, rule: rule,
            audio: .none, clip: "mv.mp4")
        let result = findings(task, clip("mv.mp4", width: 480, height: 832, fps: 16, frames: 81))
        #expect(result.map(\.code) == [.unpriced])
        #expect(result.first?.overBilled == nil)
        #expect(result.first?.severity == .warning)
    }
}
