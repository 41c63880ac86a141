import ClipKitAudit
import ClipKitCore
import Foundation
import Testing

@Suite struct MatchingTests {
    let index = ClipIndex(
        root: "/clips",
        clips: [
            "/clips/0385dc79-5ff8-4d82-bcb6-7c7e6a4b1f0e.mp4",
            "/clips/shots/shot3_9a7c3e1f5b2d4e6f8a0b1c2d3e4f5a07.mov",
            "/clips/clip-e5b4a7f6-af5c-4a99-9e5c-6d1f7a8b9c05-1080p.mp4",
            "/clips/x/7f0e5b1d-2a3c-4b8e-9d6f-1a2b3c4d5e6f.mp4",
            "/clips/a/1.mp4", "/clips/b/1.mp4",
            "/clips/named.mp4",
        ])

    @Test func taskIdInTheFileName() {
        #expect(
            index.match(taskID: "0385DC79-5FF8-4D82-BCB6-7C7E6A4B1F0E")?.path
                == "/clips/0385dc79-5ff8-4d82-bcb6-7c7e6a4b1f0e.mp4")
        #expect(index.match(taskID: "9a7c3e1f5b2d4e6f8a0b1c2d3e4f5a07")?.method == .fileName)
        #expect(
            index.match(taskID: "e5b4a7f6-af5c-4a99-9e5c-6d1f7a8b9c05")?.path
                == "/clips/clip-e5b4a7f6-af5c-4a99-9e5c-6d1f7a8b9c05-1080p.mp4")
        #expect(index.match(taskID: "af5c-4a99") != nil)  // a run of parts is a token too…
        #expect(index.match(taskID: "nothing-like-it") == nil)
    }

    @Test func outputURLFileName() {
        let url =
            "https://dashscope-result-bj.oss-cn-beijing.aliyuncs.com/1d/7c/7f0e5b1d-2a3c-4b8e-9d6f-1a2b3c4d5e6f.mp4?Expires=1&Signature=a%2Fb"
        let match = index.match(taskID: "other-task", outputURLs: [url])
        #expect(match?.path == "/clips/x/7f0e5b1d-2a3c-4b8e-9d6f-1a2b3c4d5e6f.mp4")
        #expect(match?.method == .fileName || match?.method == .outputURL)
        // Two clips named 1.mp4: ambiguous, so not matched.
        #expect(index.match(taskID: "p9", outputURLs: ["https://cdn/predictions/p9/1.mp4"]) == nil)
        #expect(ClipIndex.fileName(ofURL: "https://h/a/b%20c.mp4?x=1#f") == "b c.mp4")
    }

    @Test func manifestComesFirstAndMayNameAMissingFile() {
        var withManifest = index
        withManifest.addManifest([
            ManifestEntry(taskID: "T1", path: "named.mp4", location: RecordLocation(file: "m.csv", line: 2)),
            ManifestEntry(taskID: "T2", path: "/elsewhere/gone.mp4", location: RecordLocation(file: "m.csv", line: 3)),
        ])
        #expect(withManifest.match(taskID: "t1")?.path == "/clips/named.mp4")
        #expect(withManifest.match(taskID: "t1")?.method == .manifest)
        #expect(withManifest.match(taskID: "T2")?.path == "/elsewhere/gone.mp4")
    }

    @Test func taskRecordBesideItsClip() {
        #expect(index.match(taskID: "zz", clipHint: "/clips/named")?.path == "/clips/named.mp4")
        #expect(index.match(taskID: "zz", clipHint: "/clips/named.mp4")?.method == .taskRecord)
    }

    @Test func manifestFiles() throws {
        let csv = try temporaryFile("task_id,path,model\nt1,a.mp4,wan2.2-t2v-plus\n", ext: "csv")
        #expect(try Manifest.load(csv).map(\.path) == ["a.mp4"])
        let map = try temporaryFile(#"{"t1": "a.mp4", "t2": "b.mp4"}"#, ext: "json")
        #expect(try Manifest.load(map).map(\.taskID) == ["t1", "t2"])
        let rows = try temporaryFile(#"[{"task_id": "t1", "path": "a.mp4", "model": "wan2.2-s2v"}]"#, ext: "json")
        #expect(try Manifest.load(rows).first?.model == "wan2.2-s2v")
        let bill = try temporaryFile("task_id,model,amount,currency\nt1,m,1,CNY\n", ext: "csv")
        #expect(throws: RecordsUnreadable.self) { try Manifest.load(bill) }
    }
}

@Suite struct AuditEngineTests {
    /// Runs an audit over records given as (file name, text), against constructed probe results.
    func audit(
        _ files: [(String, String)], clips: [MediaInfo], manifest: [ManifestEntry] = [],
        book: PriceBook = .builtIn
    ) -> AuditReport {
        var audit = Audit(priceBook: book)
        audit.add(manifest: manifest)
        for (file, text) in files {
            RecordReader.read(data: Data(text.utf8), file: file) { audit.add($0) }
        }
        let index = ClipIndex(root: "/clips", clips: clips.map(\.path))
        let byPath = Dictionary(uniqueKeysWithValues: clips.map { ($0.path, $0) })
        var asked: [String] = []
        let report = audit.finish(clips: index) { path in
            asked.append(path)
            return byPath[path] ?? MediaInfo(path: path, error: MediaProblem(.notFound, "\(path): no such file"))
        }
        #expect(Set(asked) == Set(audit.clipPaths(in: index)))
        return report
    }

    @Test func aBillLineMergesWithTheTaskResponse() throws {
        let report = audit(
            [
                (
                    "q.json",
                    #"{"output":{"task_id":"t1","task_status":"SUCCEEDED"},"usage":{"video_duration":5,"SR":480}}"#
                ),
                ("bill.csv", "task_id,model,billed_seconds,amount,currency\nt1,wan2.2-t2v-plus,5,1.20,CNY\n"),
            ], clips: [clip("/clips/t1.mp4")])
        #expect(report.findings.map(\.code) == [.amountMismatch])
        #expect(report.findings.first?.overBilled == cny("0.50"))
        #expect(report.findings.first?.record == RecordLocation(file: "bill.csv", line: 2))
        #expect(report.summary.tasks == 1)
        #expect(
            report.summary.totals == [
                CurrencyTotal(currency: "CNY", billed: cny("1.20"), verified: cny("0.70"), disputed: cny("0.50"))
            ])
    }

    @Test func duplicateBillLinesAreFoundAndCounted() throws {
        let report = audit(
            [
                (
                    "bill.csv",
                    """
                    task_id,model,resolution,billed_seconds,amount,currency
                    t1,wan2.2-i2v-flash,1080P,5,2.40,CNY
                    t2,wan2.2-i2v-flash,1080P,5,2.40,CNY
                    t1,wan2.2-i2v-flash,1080P,5,2.40,CNY
                    """
                )
            ],
            clips: [clip("/clips/t1.mp4", width: 1920, height: 1080), clip("/clips/t2.mp4", width: 1920, height: 1080)])
        let duplicate = try #require(report.findings.first)
        #expect(report.findings.count == 1)
        #expect(duplicate.code == .duplicateBilling)
        #expect(duplicate.overBilled == cny("2.40"))
        #expect(duplicate.record == RecordLocation(file: "bill.csv", line: 4))
        #expect(report.summary.totals.first?.billed == cny("7.20"))
        #expect(report.summary.totals.first?.disputed == cny("2.40"))
        #expect(report.summary.models.first?.billedSeconds == 15)
    }

    @Test func theSameTaskSeenTwiceByTheAPIIsNotADuplicate() {
        let result =
            #"{"code":200,"data":{"id":"p1","model":"alibaba/wan-2.2/t2v-plus-480p","outputs":[],"has_nsfw_contents":[false],"status":"completed"}}"#
        let webhook =
            #"{"id":"p1","model":"alibaba/wan-2.2/t2v-plus-480p","outputs":[],"has_nsfw_contents":[false],"status":"completed"}"#
        let report = audit([("r.json", result), ("w.json", webhook)], clips: [clip("/clips/p1.mp4")])
        #expect(report.findings.isEmpty)
        #expect(
            report.summary.totals == [
                CurrencyTotal(currency: "USD", billed: usd("0.05"), verified: usd("0.05"), disputed: usd("0"))
            ])
    }

    @Test func modelVerseExecutionTimeIsNotBilledSeconds() throws {
        let status = """
            {"output":{"task_id":"mv1","task_status":"Success","urls":["https://cdn/out/x.mp4"]},"usage":{"duration":143}}
            """
        let clips = [clip("/clips/mv1.mp4", width: 480, height: 832, fps: 16, frames: 81)]
        let manifest = [
            ManifestEntry(
                taskID: "mv1", path: nil, model: "Wan-AI/Wan2.2-I2V", location: RecordLocation(file: "m.csv", line: 2))
        ]
        // Without a contract price: one warning, nothing short (143 s is how long it ran, not what it delivered).
        let unpriced = audit([("mv.json", status)], clips: clips, manifest: manifest)
        #expect(unpriced.findings.map(\.code) == [.unpriced])
        #expect(unpriced.summary.unpricedTasks == 1)
        #expect(unpriced.summary.totals.isEmpty)
        // With one: billed one clip, verified.
        let prices = try temporaryFile(
            #"[{"provider":"modelverse","model":"Wan-AI/Wan2.2-I2V","tier":"480P","price":"0.60"}]"#, ext: "json")
        let priced = audit(
            [("mv.json", status)], clips: clips, manifest: manifest,
            book: try PriceBook.builtIn.merging(contentsOf: prices))
        #expect(priced.findings.isEmpty)
        #expect(
            priced.summary.totals == [
                CurrencyTotal(currency: "CNY", billed: cny("0.60"), verified: cny("0.60"), disputed: cny("0"))
            ])
    }

    @Test func currenciesAreNeverAddedAndOverlappingFindingsAreCapped() throws {
        let report = audit(
            [
                (
                    "bill.csv",
                    """
                    task_id,provider,model,resolution,billed_seconds,amount,currency
                    short-and-low,dashscope,wan2.2-i2v-flash,1080P,5,2.40,CNY
                    p1,wavespeed,alibaba/wan-2.2/i2v-plus-480p,,,0.20,USD
                    """
                )
            ], clips: [clip("/clips/short-and-low.mp4", width: 1280, height: 720, frames: 30), clip("/clips/p1.mp4")])
        // 1 s of 720p delivered for 5 s of 1080P: short (4/5 of 2.40 = 1.92) and low tier (2.40 − 1.00 = 1.40),
        // disputed at most what was charged.
        #expect(Set(report.findings.map(\.code)) == [.durationShort, .tierMismatch])
        #expect(report.findings.first { $0.code == .durationShort }?.overBilled == cny("1.92"))
        let totals = Dictionary(uniqueKeysWithValues: report.summary.totals.map { ($0.currency, $0) })
        #expect(totals["CNY"]?.billed == cny("2.40"))
        #expect(totals["CNY"]?.disputed == cny("2.40"))
        #expect(totals["CNY"]?.verified == cny("0"))
        #expect(totals["USD"]?.billed == usd("0.20"))
        #expect(totals["USD"]?.verified == usd("0.20"))
        #expect(report.summary.providers.map(\.provider) == ["dashscope", "wavespeed"])
    }

    @Test func tierInferredFromTheBilledAmount() throws {
        // No resolution column: 2.40 CNY for 5 s of wan2.2-i2v-flash can only be 1080P.
        let report = audit(
            [("bill.csv", "task_id,model,billed_seconds,amount,currency\nt1,wan2.2-i2v-flash,5,2.40,CNY\n")],
            clips: [clip("/clips/t1.mp4", width: 1280, height: 720)])
        #expect(report.findings.map(\.code) == [.tierMismatch])
        #expect(report.findings.first?.overBilled == cny("1.40"))
    }

    @Test func unbilledTasksAreNotChecked() {
        let report = audit(
            [
                ("c.json", #"{"output":{"task_id":"t1","task_status":"PENDING"}}"#),
                ("f.json", #"{"code":200,"data":{"id":"p1","status":"failed","outputs":[],"error":"x"}}"#),
            ], clips: [])
        #expect(report.findings.isEmpty)
        #expect(report.summary.tasks == 2)
        #expect(report.summary.billedTasks == 0)
    }

    @Test func malformedRecordsAreFindingsAndTheBatchGoesOn() throws {
        let report = audit(
            [
                (
                    "tasks.jsonl",
                    """
                    {"output":{"task_id":"a","task_status":"SUCCEEDED"},"usage":{"video_duration":5,"SR":480}}
                    {"output":{"task_id":
                    {"output":{"task_id":"b","task_status":"SUCCEEDED"},"usage":{"video_duration":5,"SR":480}}
                    """
                )
            ], clips: [clip("/clips/a.mp4"), clip("/clips/b.mp4")],
            manifest: [
                ManifestEntry(
                    taskID: "a", path: nil, model: "wan2.2-t2v-plus", location: RecordLocation(file: "m", line: 1)),
                ManifestEntry(
                    taskID: "b", path: nil, model: "wan2.2-t2v-plus", location: RecordLocation(file: "m", line: 2)),
            ])
        let problem = try #require(report.findings.first)
        #expect(report.findings.count == 1)
        #expect(problem.code == .recordUnreadable)
        #expect(problem.record == RecordLocation(file: "tasks.jsonl", line: 2))
        #expect(report.summary.billedTasks == 2)
        #expect(report.summary.totals.first?.billed == cny("1.40"))
    }

    @Test func aHundredThousandRecordsStream() throws {
        // 100,000 bill lines, every 1,000th task billed twice; no clips (all missing).
        var text = "task_id,model,resolution,billed_seconds,amount,currency\n"
        for i in 0..<99_900 {
            text += "task-\(i),wan2.2-i2v-flash,480P,5,0.50,CNY\n"
            if i % 1000 == 0 { text += "task-\(i),wan2.2-i2v-flash,480P,5,0.50,CNY\n" }
        }
        var audit = Audit()
        RecordReader.read(data: Data(text.utf8), file: "big.csv") { audit.add($0) }
        #expect(audit.recordsRead == 99_900 + 100)
        let report = audit.finish(clips: ClipIndex(root: "/none", clips: [])) { _ in nil }
        #expect(report.findings.filter { $0.code == .duplicateBilling }.count == 100)
        #expect(report.findings.filter { $0.code == .clipMissing }.count == 99_900)
        #expect(report.summary.totals.first?.billed == cny("50000.00"))
        #expect(report.summary.totals.first?.disputed == cny("50000.00"))
    }
}
