import ClipKitLedger
import ClipKitService
import Foundation
import Testing

@testable import ClipKitServer

@Suite("POST /v1/webhooks/wavespeed")
struct WebhookTests {
    static func body(task: String) -> Data {
        Data(#"{"id":"\#(task)","model":"wan-2.2/t2v-480p","outputs":["https://cdn.example/out.mp4"],"status":"completed"}"#.utf8)
    }

    @Test("the task a delivery names: data.id when the prediction is wrapped, else id; none for a body that is not JSON")
    func deliveredTaskID() {
        let cases: [(String, String?)] = [
            (#"{"id":"a"}"#, "a"), (#"{"data":{"id":"b","status":"completed"},"id":"a"}"#, "b"), (#"{"data":{"id":5},"id":"a"}"#, "a"),
            (#"{"data":"b","id":"a"}"#, "a"), (#"{"id":7}"#, nil), ("[]", nil), ("<Error>expired</Error>", nil), ("", nil),
        ]
        for (body, task) in cases { #expect(Routes.deliveredTaskID(Data(body.utf8)) == task, "\(body)") }
    }

    @Test("forged, stale and future deliveries are 401; a valid one is recorded once and makes one job; a replay is acknowledged",
          arguments: LedgerBackend.allCases)
    func signedDeliveries(_ backend: LedgerBackend) async throws {
        try await TestServer.with(backend) { server in
            let body = Self.body(task: "pred_unknown_1")
            let now = Int(Date().timeIntervalSince1970)
            let path = "/v1/webhooks/wavespeed"
            // Forged: another secret; tampered: the body changed after signing.
            let forged = try await server.anonymous(.POST, path, headers: TestServer.signedHeaders(id: "msg_1", body: body, secret: "whsec_other"), body: body)
            #expect(forged.status == 401)
            #expect(forged.errorCode == "signatureMismatch")
            var tamperedBody = body
            tamperedBody.append(contentsOf: Array(" ".utf8))
            let tampered = try await server.anonymous(.POST, path, headers: TestServer.signedHeaders(id: "msg_1", body: body), body: tamperedBody)
            #expect(tampered.status == 401)
            let stale = try await server.anonymous(.POST, path, headers: TestServer.signedHeaders(id: "msg_1", body: body, timestamp: now - 900), body: body)
            #expect(stale.status == 401)
            #expect(stale.errorCode == "stale")
            let future = try await server.anonymous(.POST, path, headers: TestServer.signedHeaders(id: "msg_1", body: body, timestamp: now + 900), body: body)
            #expect(future.status == 401)
            let unsigned = try await server.anonymous(.POST, path, headers: [("Content-Type", "application/json"), ("webhook-id", "msg_1")], body: body)
            #expect(unsigned.status == 401)
            #expect(unsigned.errorCode == "missingHeader")
            #expect(try await server.store.read { try await $0.recentWebhookDeliveries() }.isEmpty)
            #expect(try await server.store.jobs().isEmpty)

            let valid = try await server.anonymous(.POST, path, headers: TestServer.signedHeaders(id: "msg_1", body: body), body: body)
            #expect(valid.status == 200, "\(valid.text)")
            #expect(valid.json["duplicate"] as? Bool == false)
            #expect(valid.json["taskKnown"] as? Bool == false)
            let delivery = try #require(valid.json["delivery"] as? String)
            // The provider redelivers (same webhook-id, newly signed): acknowledged, nothing new.
            let replay = try await server.anonymous(.POST, path, headers: TestServer.signedHeaders(id: "msg_1", body: body, timestamp: now + 5), body: body)
            #expect(replay.status == 200)
            #expect(replay.json["duplicate"] as? Bool == true)
            #expect(replay.json["delivery"] as? String == delivery)

            let deliveries = try await server.store.read { try await $0.recentWebhookDeliveries() }
            #expect(deliveries.count == 1)
            #expect(deliveries.first?.providerTaskID == "pred_unknown_1")
            #expect(deliveries.first?.taskID == nil)
            #expect(deliveries.first?.body == String(decoding: body, as: UTF8.self))
            #expect(try await server.store.read { try await $0.unmatchedWebhookDeliveries() }.map(\.id) == [delivery])
            let jobs = try await server.store.jobs(kind: TaskService.Kind.webhook)
            #expect(jobs.count == 1)
            #expect(jobs.first?.payload["deliveries"]?.arrayValue?.map { $0["delivery"]?.stringValue } == [delivery])
            // The jobs route shows it, waiting for a handler.
            let listed = try await server.send(.GET, "/v1/jobs?state=queued")
            #expect((listed.json["jobs"] as? [[String: Any]])?.compactMap { $0["kind"] as? String } == [TaskService.Kind.webhook])
            // Nothing secret was kept: not the signature, not the secret.
            #expect(!(deliveries.first?.body.contains("v3,") ?? true))

            // GET /metrics (public, as health checks are) counts them, and shows the queue from the ledger.
            let metrics = try await server.anonymous(.GET, "/metrics")
            #expect(metrics.status == 200 && metrics.headers["Content-Type"].first?.hasPrefix("text/plain") == true)
            let lines = Set(metrics.text.split(separator: "\n").map(String.init))
            for line in [#"clipkit_webhooks_total{result="rejected"} 5"#, #"clipkit_webhooks_total{result="accepted"} 1"#,
                         #"clipkit_webhooks_total{result="duplicate"} 1"#, #"clipkit_jobs{kind="task.webhook",state="queued"} 1.0"#,
                         #"clipkit_jobs{kind="task.webhook",state="running"} 0.0"#, "clipkit_clips 0.0"] {
                #expect(lines.contains(line), "\(line) in:\n\(metrics.text)")
            }
        }
    }
}
