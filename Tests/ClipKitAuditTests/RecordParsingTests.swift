import ClipKitAudit
import ClipKitCore
import Foundation
import Testing

@Suite struct DashScopeRecordTests {
    @Test func queryWithVideoDurationAndSR() throws {
        let record = try #require(
            onlyRecord(
                """
                {"request_id":"r1","output":{"task_id":"t-1","task_status":"SUCCEEDED","video_url":"https://x/a.mp4?Expires=1",
                 "submit_time":"2025-09-18 14:02:11.204","end_time":"2025-09-18 14:04:58.930","orig_prompt":"boat"},
                 "usage":{"video_duration":5,"video_count":1,"SR":1080,"video_ratio":"16:9"}}
                """))
        #expect(record.format == .dashScopeTask)
        #expect(record.taskID == "t-1")
        #expect(record.provider == "dashscope")
        #expect(record.status == .succeeded)
        #expect(record.tier == .p1080)
        #expect(record.billedSeconds == 5)
        #expect(record.outputURLs == ["https://x/a.mp4?Expires=1"])
        #expect(record.charged)
        #expect(record.model == nil)  // query responses do not name the model
    }

    @Test func queryWithoutSR() throws {
        let record = try #require(
            onlyRecord(
                #"{"output":{"task_id":"t","task_status":"SUCCEEDED"},"usage":{"video_count":1,"video_duration":5}}"#))
        #expect(record.billedSeconds == 5)
        #expect(record.tier == nil)
    }

    @Test func durationShapeBillsInputPlusOutput() throws {
        let record = try #require(
            onlyRecord(
                """
                {"output":{"task_id":"t","task_status":"SUCCEEDED"},
                 "usage":{"duration":10.0,"input_video_duration":0,"output_video_duration":10.0,"video_count":1,"SR":720,"ratio":"16:9","fps":30}}
                """))
        #expect(record.billedSeconds == 10)
        #expect(record.outputSeconds == 10)
        #expect(record.tier == .p720)
        let split = try #require(
            onlyRecord(
                """
                {"output":{"task_id":"t","task_status":"SUCCEEDED"},"usage":{"input_video_duration":3.5,"output_video_duration":5}}
                """))
        #expect(split.billedSeconds == Decimal(string: "8.5"))
        #expect(split.outputSeconds == 5)
    }

    @Test func fractionalAndStringNumbersStayExact() throws {
        let s2v = try #require(
            onlyRecord(
                #"{"output":{"task_id":"t","task_status":"SUCCEEDED"},"usage":{"video_duration":10.23,"SR":"480"}}"#))
        #expect(s2v.billedSeconds == Decimal(string: "10.23"))
        #expect(s2v.tier == .p480)
        let strings = try #require(
            onlyRecord(
                #"{"output":{"task_id":"t","task_status":"SUCCEEDED"},"usage":{"video_duration":"5.0","video_count":"1"}}"#
            ))
        #expect(strings.billedSeconds == 5)
    }

    @Test func createResponseIsATaskWithoutACharge() throws {
        let record = try #require(onlyRecord(#"{"request_id":"r","output":{"task_id":"t-9","task_status":"PENDING"}}"#))
        #expect(record.format == .dashScopeCreate)
        #expect(record.status == .pending)
        #expect(!record.charged)
    }

    @Test func creationErrorIsIgnoredNotAProblem() {
        let items = readRecords(#"{"request_id":"r","code":"Arrearage","message":"Access denied"}"#, file: "e.json")
        guard case .ignored(let location, let reason) = items.first else {
            Issue.record("expected an ignored item, got \(items)")
            return
        }
        #expect(location.line == 1)
        #expect(reason.contains("Arrearage"))
    }

    @Test func failureWithUsageIsCharged() throws {
        let record = try #require(
            onlyRecord(
                """
                {"output":{"task_id":"t","task_status":"FAILED","code":"InternalError.Timeout","message":"timed out"},
                 "usage":{"video_duration":5,"video_count":1,"SR":480}}
                """))
        #expect(record.status == .failed)
        #expect(record.errorCode == "InternalError.Timeout")
        #expect(record.charged)
        #expect(!record.contentFlagged)
        let free = try #require(
            onlyRecord(
                #"{"output":{"task_id":"t","task_status":"FAILED"},"usage":{"video_duration":0,"video_count":0}}"#))
        #expect(!free.charged)
    }

    @Test func dataInspectionFailedIsContentFlagged() throws {
        let record = try #require(
            onlyRecord(
                """
                {"output":{"task_id":"t","task_status":"FAILED","code":"DataInspectionFailed","message":"inappropriate content"}}
                """))
        #expect(record.contentFlagged)
        #expect(record.status == .failed)
        #expect(!record.charged)  // no usage: only a bill line can show it was charged
    }

    @Test func unknownFieldsAreIgnored() throws {
        let record = try #require(
            onlyRecord(
                """
                {"output":{"task_id":"t","task_status":"SUCCEEDED","new_field":{"a":[1,2]},"check_audio":true},
                 "usage":{"video_duration":5,"something_new":"x"},"extra":null}
                """))
        #expect(record.billedSeconds == 5)
    }

    @Test func badUsageIsAProblemWithTheLine() {
        let items = readRecords(
            """
            [
              {"output":{"task_id":"ok","task_status":"SUCCEEDED"},"usage":{"video_duration":5}},
              {"output":{"task_id":"bad","task_status":"SUCCEEDED"},"usage":{"video_duration":"five"}}
            ]
            """, file: "batch.json")
        #expect(items.count == 2)
        #expect(items[0].record?.taskID == "ok")
        #expect(items[1].problem?.location == RecordLocation(file: "batch.json", line: 3))
        #expect(items[1].problem?.message.contains("video_duration") == true)
    }
}

@Suite struct WaveSpeedRecordTests {
    @Test func predictionResultWithNSFWFlag() throws {
        let record = try #require(
            onlyRecord(
                """
                {"code":200,"message":"success","data":{"id":"p1","model":"alibaba/wan-2.2/i2v-plus-480p",
                 "outputs":["https://cdn/p1/1.mp4"],"urls":{"get":"https://api/p1/result"},"has_nsfw_contents":[true],
                 "status":"completed","created_at":"2025-09-18T09:31:12.482Z","error":"","timings":{"inference":41875}}}
                """))
        #expect(record.format == .waveSpeedResult)
        #expect(record.provider == "wavespeed")
        #expect(record.model == "alibaba/wan-2.2/i2v-plus-480p")
        #expect(record.contentFlagged)
        #expect(record.status == .succeeded)
        #expect(record.charged)
        #expect(record.errorMessage == nil)
    }

    @Test func webhookBodyWithInput() throws {
        let record = try #require(
            onlyRecord(
                """
                {"id":"p2","model":"alibaba/wan-2.2/t2v-plus-480p","input":{"prompt":"fox","size":"832*480","duration":5},
                 "outputs":["https://cdn/p2/1.mp4"],"urls":{"get":"x"},"has_nsfw_contents":[false],"status":"completed",
                 "created_at":"2025-09-18T09:40:55.017Z","error":""}
                """))
        #expect(record.format == .waveSpeedWebhook)
        #expect(record.tier == .p480)
        #expect(record.requestedSeconds == 5)
        #expect(!record.contentFlagged)
        #expect(record.charged)
    }

    @Test(arguments: ["failed", "cancelled", "timeout", "processing", "created"])
    func unfinishedOrFailedPredictionsAreNotCharged(status: String) throws {
        let record = try #require(
            onlyRecord(
                """
                {"code":200,"data":{"id":"p3","model":"m","outputs":[],"has_nsfw_contents":[],"status":"\(status)","error":"boom"}}
                """))
        #expect(!record.charged)
    }

    @Test func errorEnvelopeWithoutDataIsIgnored() {
        let items = readRecords(#"{"code":401,"message":"Unauthorized","data":null}"#, file: "w.json")
        if case .ignored = items.first {} else { Issue.record("expected ignored, got \(items)") }
    }
}

@Suite struct ModelVerseRecordTests {
    @Test func usageDurationIsExecutionTimeNeverBilledSeconds() throws {
        let record = try #require(
            onlyRecord(
                """
                {"output":{"task_id":"mv1","task_status":"Success","urls":["https://cdn/out/x.mp4"],
                 "submit_time":1758189600,"finish_time":1758189743},"usage":{"duration":143},"request_id":""}
                """))
        #expect(record.format == .modelVerseStatus)
        #expect(record.provider == "modelverse")
        #expect(record.executionSeconds == 143)
        #expect(record.billedSeconds == nil)
        #expect(record.outputSeconds == nil)
        #expect(record.status == .succeeded)
        #expect(record.charged)
    }

    @Test func submitAndFailure() throws {
        let submit = try #require(onlyRecord(#"{"output":{"task_id":"mv2"},"request_id":"r"}"#))
        #expect(submit.format == .modelVerseCreate)
        #expect(!submit.charged)
        let failure = try #require(
            onlyRecord(
                """
                {"output":{"task_id":"mv3","task_status":"Failure","urls":[],"error_message":"input image is not accessible"},"usage":{"duration":12}}
                """))
        #expect(failure.status == .failed)
        #expect(failure.errorMessage == "input image is not accessible")
        #expect(!failure.charged)
    }
}

@Suite struct CSVBillTests {
    @Test func readsAConsoleExportWithLooseHeaders() {
        let items = readRecords(
            """
            Task ID,Model,Resolution,Billed Seconds,Amount,Currency,Region
            t1,wan2.2-t2v-plus,480P,5,1.20,CNY,cn-beijing
            "t2","wan2.2-i2v-flash","1080P","5","2.40","CNY","cn, beijing"

            t3,alibaba/wan-2.2/i2v-plus-480p,,,0.20,USD,
            """, file: "bill.csv")
        let records = items.compactMap(\.record)
        #expect(records.count == 3)
        #expect(records[0].amount == cny("1.20"))
        #expect(records[0].tier == .p480)
        #expect(records[0].billedSeconds == 5)
        #expect(records[0].location == RecordLocation(file: "bill.csv", line: 2))
        #expect(records[1].taskID == "t2")
        #expect(records[1].tier == .p1080)
        #expect(records[2].billedSeconds == nil)
        #expect(records[2].amount == usd("0.20"))
        #expect(records.allSatisfy { $0.isBillLine && $0.charged })
    }

    @Test func malformedRowsAreReportedAndTheRestRead() {
        let items = readRecords(
            """
            task_id,model,billed_seconds,amount,currency
            t1,wan2.2-t2v-plus,5,n/a,CNY
            t2,wan2.2-t2v-plus,five,0.70,CNY
            t3,wan2.2-t2v-plus,5,"0.70,CNY
            t4,wan2.2-t2v-plus,5,0.70,CNY
            """, file: "b.csv")
        #expect(items.compactMap(\.problem).map(\.location.line) == [2, 3, 4])
        #expect(items.compactMap(\.record).map(\.taskID) == ["t4"])
    }

    @Test func aCSVWithoutBillColumnsIsOneProblem() {
        let items = readRecords("name,size\na,1\n", file: "other.csv")
        #expect(items.count == 1)
        #expect(items[0].problem?.message.contains("not a bill") == true)
    }

    @Test func aCSVWithTaskAndPathColumnsIsAManifest() {
        let items = readRecords("task_id,path,model\nt1,a.mp4,wan2.2-t2v-plus\nt2,,wan2.2-s2v\n", file: "m.csv")
        let entries = items.compactMap { item -> ManifestEntry? in
            if case .manifest(let entry) = item { return entry }
            return nil
        }
        #expect(entries.map(\.taskID) == ["t1", "t2"])
        #expect(entries[0].path == "a.mp4")
        #expect(entries[1].path == nil)
        #expect(entries[1].model == "wan2.2-s2v")
    }
}

@Suite struct TaskRecordTests {
    func sample() -> TaskRecord {
        TaskRecord(
            provider: "dashscope", model: "wan2.5-t2v-preview", taskID: "t-42",
            endpoint: "https://dashscope.aliyuncs.com",
            request: TaskRecord.sanitized(
                .object([
                    "model": .string("wan2.5-t2v-preview"), "api_key": .string("sk-secret"),
                    "input": .object(["img_url": .string("data:image/png;base64,AAAAAAAA")]),
                    "parameters": .object([
                        "resolution": .string("720P"), "duration": .number(5), "audio": .bool(false),
                    ]),
                ])),
            statusHistory: [
                .init(status: "PENDING", at: Date(timeIntervalSince1970: 1_758_190_000)),
                .init(status: "SUCCEEDED", at: Date(timeIntervalSince1970: 1_758_190_200)),
            ],
            outputURL: "https://oss/x.mp4", outputFile: "shot-1.mp4",
            usage: .object(["video_duration": .number(Decimal(string: "10.23")!), "SR": .number(720)]))
    }

    @Test func roundTripsThroughItsFileFormat() throws {
        let data = try TaskRecord.makeEncoder().encode(sample())
        let text = String(decoding: data, as: UTF8.self)
        #expect(!text.contains("sk-secret"))
        #expect(text.contains("\"kind\" : \"clipkit.task\""))
        #expect(text.contains("data:image/png;base64,<8 bytes>"))
        #expect(try TaskRecord.makeDecoder().decode(TaskRecord.self, from: data) == sample())

        let record = try #require(onlyRecord(text, file: "/clips/shot-1.task.json"))
        #expect(record.format == .taskRecord)
        #expect(record.taskID == "t-42")
        #expect(record.model == "wan2.5-t2v-preview")
        #expect(record.status == .succeeded)
        #expect(record.billedSeconds == Decimal(string: "10.23"))
        #expect(record.tier == .p720)
        #expect(record.requestedSeconds == 5)
        #expect(record.audioRequested == false)
        #expect(record.clipHint == "/clips/shot-1.mp4")
        #expect(record.charged)
    }

    @Test func modelVerseTaskRecordKeepsExecutionTimeOutOfBilling() throws {
        var task = sample()
        task.provider = "modelverse"
        task.usage = .object(["duration": .number(143)])
        let record = try #require(
            onlyRecord(String(decoding: try TaskRecord.makeEncoder().encode(task), as: UTF8.self)))
        #expect(record.billedSeconds == nil)
        #expect(record.executionSeconds == 143)
        #expect(record.tier == .p720)  // from the request's resolution
    }

    @Test func missingFieldIsAProblem() {
        let items = readRecords(
            #"{"kind":"clipkit.task","version":1,"provider":"dashscope","model":"m","statusHistory":[]}"#,
            file: "x.task.json")
        #expect(items.first?.problem?.message.contains("taskID") == true)
    }

    @Test func pathBesideTheClip() {
        #expect(TaskRecord.path(forClip: "/a/b/shot-1.mp4") == "/a/b/shot-1.task.json")
    }
}

@Suite struct RecordFileTests {
    @Test func jsonLinesWithABrokenLineGoesOn() {
        let items = readRecords(
            """
            {"output":{"task_id":"a","task_status":"SUCCEEDED"},"usage":{"video_duration":5}}
            {"output":{"task_id":"b","task_status":"SUCC
            {"output":{"task_id":"c","task_status":"SUCCEEDED"},"usage":{"video_duration":5}}
            """, file: "tasks.jsonl")
        #expect(items.compactMap(\.record).map(\.taskID) == ["a", "c"])
        #expect(items.compactMap(\.problem).map(\.location.line) == [2])
    }

    @Test func aFileNestedTooDeepIsAProblemNotACrash() {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        let items = readRecords(
            """
            {"output":{"task_id":"a","task_status":"SUCCEEDED"},"usage":{"video_duration":5}}
            \(deep)
            {"output":{"task_id":"c","task_status":"SUCCEEDED"},"usage":{"video_duration":5}}
            """, file: "deep.jsonl")
        #expect(items.compactMap(\.record).map(\.taskID) == ["a", "c"])
        #expect(items.compactMap(\.problem).map(\.location.line) == [2])
        #expect(items.compactMap(\.problem).first?.message.contains("nested more than 512 deep") == true)
    }

    @Test func concatenatedPrettyObjects() {
        let items = readRecords(
            """
            {
                "output": {"task_id": "a", "task_status": "SUCCEEDED"}
            }
            {
                "id": "p1", "status": "completed", "outputs": [], "model": "m"
            }
            """, file: "mixed.json")
        #expect(items.compactMap(\.record).map(\.taskID) == ["a", "p1"])
        #expect(items.compactMap(\.record).map(\.location.line) == [1, 4])
    }

    @Test func arrayElementsCarryTheirOwnLines() {
        let items = readRecords(
            "[\n  {\"output\":{\"task_id\":\"a\",\"task_status\":\"PENDING\"}},\n\n  {\"id\":\"p\",\"status\":\"failed\"}\n]\n",
            file: "arr.json")
        #expect(items.compactMap(\.record).map(\.location.line) == [2, 4])
    }

    @Test func brokenArrayReportsTheLineAndStops() {
        let items = readRecords(
            "[\n {\"output\":{\"task_id\":\"a\",\"task_status\":\"PENDING\"}},\n {\"id\": ,}\n]", file: "arr.json")
        #expect(items.count == 2)
        #expect(items[1].problem?.location.line == 3)
        #expect(items[1].problem?.message.contains("rest of the file") == true)
    }

    @Test func unrecognisedAndNonObjectRecordsAreProblems() {
        let items = readRecords(#"[{"hello":"world"}, 42]"#, file: "x.json")
        #expect(items.compactMap(\.problem).count == 2)
        #expect(items[0].problem?.message.contains("unrecognised") == true)
        #expect(readRecords("   \n", file: "empty.json").first?.problem?.message == "empty file")
    }

    @Test func unicodeEscapesDecode() throws {
        let record = try #require(onlyRecord(#"{"output":{"task_id":"t\u00e9\ud83d\ude00","task_status":"PENDING"}}"#))
        #expect(record.taskID == "té😀")
    }
}
