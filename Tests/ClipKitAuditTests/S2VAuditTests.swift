import ClipKitAudit
import ClipKitCore
import Foundation
import Testing

/// A talking clip as the media layer reports it: `frames` at 30 fps, 3:4 at 480P unless given, and
/// `sound` seconds of AAC (nil: silent).
func talking(frames: Int, sound: Double?, width: Int = 544, height: Int = 720) -> MediaInfo {
    var info = clip(width: width, height: height, fps: 30, frames: frames)
    info.audio = sound.map { AudioInfo(codec: "aac", sampleRate: 48_000, channels: 2, duration: $0) }
    return info
}

/// An s2v task billed `seconds` (fractional, as DashScope bills it) for a voice of `voice` seconds.
func s2vTask(seconds: String, voice: String?, tier: Tier = .p480) -> BilledTask {
    var task = dashScopeTask("wan2.2-s2v", tier: tier, seconds: Decimal(string: seconds)!)
    task.inputAudioSeconds = voice.map { Decimal(string: $0)! }
    return task
}

/// s2v: the expected length is the voice's, billed seconds are checked against the video within a frame,
/// and the voice must be in the clip for as long as the video.
@Suite struct S2VAuditTests {
    func findings(_ task: BilledTask, _ media: MediaInfo) -> [Finding] {
        Checks.run(task, media: media, priceBook: .builtIn)
    }

    @Test func priceBookBillsFractionalSecondsExactly() throws {
        let book = PriceBook.builtIn
        let p480 = try #require(book.rule(provider: "dashscope", model: "wan2.2-s2v", tier: .p480))
        let p720 = try #require(book.rule(provider: "dashscope", model: "wan2.2-s2v", tier: .p720))
        #expect(book.rule(provider: "dashscope", model: "wan2.2-s2v", tier: .p1080) == nil, "s2v has no 1080P")
        #expect(p480.price == Decimal(string: "0.50") && p720.price == Decimal(string: "0.90"))
        #expect(p480.incrementSeconds == nil && p480.minimumSeconds == nil, "no rounding up to whole seconds")
        #expect(p480.audio == .input)
        #expect(p480.charge(seconds: Decimal(string: "3.4")!) == cny("1.70"))
        #expect(p720.charge(seconds: Decimal(string: "3.4")!) == cny("3.06"))
        // 10.23 × 0.50 = 5.115 exactly in Decimal (5.11499… in binary floating point), so half up gives 5.12.
        #expect(p480.charge(seconds: Decimal(string: "10.23")!) == cny("5.12"))
        #expect(p720.charge(seconds: Decimal(string: "10.23")!) == cny("9.21"))
    }

    @Test func aClipAsLongAsItsVoiceIsClean() {
        // 307 frames (10.233 s) with 10.23 s of voice, billed 10.23 s.
        #expect(findings(s2vTask(seconds: "10.23", voice: "10.23"), talking(frames: 307, sound: 10.23)).isEmpty)
        #expect(findings(s2vTask(seconds: "3.4", voice: "3.4"), talking(frames: 102, sound: 3.4)).isEmpty)
        // Without the record's voice length (a bill line only), the bill is checked against the clip alone.
        #expect(findings(s2vTask(seconds: "10.23", voice: nil), talking(frames: 307, sound: 10.23)).isEmpty)
    }

    @Test func cutShortIsOverBilledProRata() throws {
        // Billed 10.23 s at 720P (9.21 CNY), delivered 257 frames (8.567 s) with their sound.
        let result = findings(s2vTask(seconds: "10.23", voice: "10.23", tier: .p720),
                              talking(frames: 257, sound: 8.567, width: 832, height: 1088))
        #expect(result.map(\.code) == [.durationShort])
        // 9.21 × (10.23 − 8.567) ÷ 10.23 = 1.4972… → 1.50.
        #expect(result.first?.overBilled == cny("1.50"))
    }

    @Test func billedBeyondTheVoice() throws {
        // A 12 s clip billed 12 s (6.00 CNY) for a 10.23 s voice: 1.77 s of it is padding.
        let result = findings(s2vTask(seconds: "12", voice: "10.23"), talking(frames: 360, sound: 12))
        let finding = try #require(result.first)
        #expect(result.count == 1)
        #expect(finding.code == .billedBeyondAudio && finding.severity == .error)
        // 6.00 × 1.77 ÷ 12 = 0.885 → 0.89.
        #expect(finding.overBilled == cny("0.89"))
        #expect(finding.message.contains("the voice sent lasts 10.23 s"))
        // One frame past the voice is within the tolerance.
        #expect(findings(s2vTask(seconds: "10.26", voice: "10.23"), talking(frames: 308, sound: 10.26)).isEmpty)
    }

    @Test func billedBeyondTheVoiceAndShortCountsTheMissingSecondsOnce() throws {
        // Billed 12 s for a 10.23 s voice, delivered 11 s: 1.77 s unsupported, in one finding.
        let result = findings(s2vTask(seconds: "12", voice: "10.23"), talking(frames: 330, sound: 11))
        #expect(result.map(\.code) == [.durationShort])
        #expect(result.first?.overBilled == cny("0.89"))
    }

    @Test func missingVoiceIsTheWholeCharge() throws {
        let result = findings(s2vTask(seconds: "10.23", voice: "10.23"), talking(frames: 307, sound: nil))
        let finding = try #require(result.first)
        #expect(result.count == 1)
        #expect(finding.code == .audioMissing && finding.severity == .error)
        #expect(finding.overBilled == cny("5.12"))
    }

    @Test func voiceEndingEarlyIsOverBilledForTheSilentSeconds() throws {
        // 10.233 s of video, 6.23 s of sound: 4 s of the 10.23 billed are silent. 5.12 × 4 ÷ 10.23 = 2.0019… → 2.00.
        let result = findings(s2vTask(seconds: "10.23", voice: "10.23"), talking(frames: 307, sound: 6.23))
        let finding = try #require(result.first)
        #expect(result.count == 1)
        #expect(finding.code == .audioShort && finding.severity == .error)
        #expect(finding.overBilled == cny("2.00"))
        // A few milliseconds short is within a frame.
        #expect(findings(s2vTask(seconds: "10.23", voice: "10.23"), talking(frames: 307, sound: 10.21)).isEmpty)
    }

    @Test func cutAndSilentDisputesNoMoreThanTheCharge() async throws {
        // Cut short and without its voice: the task's disputed amount is capped at its charge.
        var audit = Audit(priceBook: .builtIn)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("s2v-audit-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let record = TaskRecord(provider: "dashscope", model: "wan2.2-s2v", taskID: "s2v-1",
                                statusHistory: [.init(status: "SUCCEEDED", at: Date())], outputFile: "talk.mp4",
                                usage: .object(["video_count": .number(1), "video_duration": .number(Decimal(string: "10.23")!)]),
                                inputAudioDuration: 10.23)
        try TaskRecord.makeEncoder().encode(record).write(to: URL(fileURLWithPath: folder + "/talk.task.json"))
        _ = FileManager.default.createFile(atPath: folder + "/talk.mp4", contents: Data())
        let clips = try ClipIndex(scanning: folder)
        try audit.read(recordPaths: [folder], clips: clips)
        let report = await audit.run(clips: clips) { paths in
            paths.map { var info = talking(frames: 257, sound: nil); info.path = $0; return info }
        }
        #expect(Set(report.findings.map(\.code)) == [.durationShort, .audioMissing])
        let totals = try #require(report.summary.totals.first)
        #expect(totals.billed == cny("5.12"))
        #expect(totals.disputed == cny("5.12"), "0.83 for the missing seconds + 4.29 for the silent ones = the whole charge")
    }

    @Test func taskRecordCarriesTheVoiceLength() throws {
        let record = TaskRecord(provider: "dashscope", model: "wan2.2-s2v", taskID: "t-s2v",
                                statusHistory: [.init(status: "SUCCEEDED", at: Date(timeIntervalSince1970: 0))],
                                usage: .object(["video_count": .number(1), "video_duration": .number(Decimal(string: "10.23")!)]),
                                inputAudioDuration: 10.2300001)
        let text = String(decoding: try TaskRecord.makeEncoder().encode(record), as: UTF8.self)
        let parsed = try #require(onlyRecord(text, file: "/clips/talk.task.json"))
        #expect(parsed.billedSeconds == Decimal(string: "10.23"))
        #expect(parsed.inputAudioSeconds == Decimal(string: "10.23"), "to the millisecond")
        // An older record without the field still reads.
        let old = text.replacingOccurrences(of: "\"inputAudioDuration\" : 10.2300001,", with: "")
        #expect(!old.contains("inputAudioDuration"))
        #expect(onlyRecord(old, file: "/clips/talk.task.json")?.inputAudioSeconds == nil)
    }
}
