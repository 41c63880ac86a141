import ClipKitAudit
import ClipKitCore
import Foundation

/// Money in CNY from text: `cny("0.70")`.
func cny(_ text: String) -> Money { Money(Decimal(string: text)!, "CNY") }

/// Money in USD from text.
func usd(_ text: String) -> Money { Money(Decimal(string: text)!, "USD") }

/// A probe result as the media layer would report it, built in the test (no video file needed).
func clip(
    _ path: String = "clip.mp4", width: Int = 832, height: Int = 480, fps: Int = 30, frames: Int = 150,
    duration: Double? = nil, audio: Bool = false, error: MediaProblem? = nil, decodedFrames: Int? = nil,
    decodeErrors: Int? = nil
) -> MediaInfo {
    let seconds = duration ?? Double(frames) / Double(fps)
    return MediaInfo(
        path: path, fileSize: 300_000, container: "mp4", duration: seconds,
        video: VideoInfo(
            codec: "h264", width: width, height: height, frameRate: Rational(fps, 1), frameCount: frames,
            duration: seconds, decodedFrames: decodedFrames, decodeErrors: decodeErrors),
        audio: audio ? AudioInfo(codec: "aac", sampleRate: 48_000, channels: 2, duration: seconds) : nil,
        error: error)
}

/// A file that is not media at all, as the media layer reports it.
func notMedia(_ path: String) -> MediaInfo {
    MediaInfo(path: path, fileSize: 366, error: MediaProblem(.notMedia, "\(path): not a video but an XML document"))
}

/// A DashScope-priced task as the audit builds it: the price book's charge for model, tier, seconds.
func dashScopeTask(
    _ model: String = "wan2.2-i2v-flash", tier: Tier = .p480, seconds: Decimal = 5, id: String = "task-1",
    clip: String? = "clip.mp4", charge: Money? = nil
) -> BilledTask {
    let rule = PriceBook.builtIn.rule(provider: "dashscope", model: model, tier: tier)!
    let expected = rule.charge(seconds: seconds)!
    return BilledTask(
        taskID: id, provider: "dashscope", model: model, tier: tier, billedSeconds: seconds,
        charge: charge ?? expected, expectedCharge: expected, chargeFromBill: charge != nil, rule: rule,
        audio: rule.audio, clip: clip, record: RecordLocation(file: "bill.csv", line: 2))
}

/// Reads records from text as if from `file`.
func readRecords(_ text: String, file: String) -> [RecordItem] {
    var items: [RecordItem] = []
    RecordReader.read(data: Data(text.utf8), file: file) { items.append($0) }
    return items
}

/// The one record in `text`, or nil.
func onlyRecord(_ text: String, file: String = "record.json") -> BillingRecord? {
    let items = readRecords(text, file: file)
    guard items.count == 1, case .record(let record) = items[0] else { return nil }
    return record
}

extension RecordItem {
    var record: BillingRecord? {
        if case .record(let record) = self { return record }
        return nil
    }

    var problem: RecordProblem? {
        if case .problem(let problem) = self { return problem }
        return nil
    }
}

/// The package's root folder (for the committed samples).
let packageRoot: URL = {
    var url = URL(fileURLWithPath: #filePath)
    // Tests/ClipKitAuditTests/Support.swift → the package root; resolve symlinks of dev checkouts first.
    url = url.resolvingSymlinksInPath()
    return url.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
}()
