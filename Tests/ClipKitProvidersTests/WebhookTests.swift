import ClipKitCore
@testable import ClipKitProviders
import ClipKitSandbox
import ClipKitTestSupport
import Foundation
import Hummingbird
import Logging
import Testing

/// A loopback receiver that keeps every POST it gets.
final class WebhookReceiver: @unchecked Sendable {
    struct Delivery: Sendable {
        var headers: [String: String]
        var body: Data
    }

    private let lock = NSLock()
    private var deliveries: [Delivery] = []
    private var task: Task<Void, any Error>?
    private(set) var url = ""

    func start() async throws {
        let router = Router()
        router.post("/hook") { request, _ -> HTTPResponse.Status in
            var request = request
            let body = try await request.collectBody(upTo: 1 << 20)
            var headers: [String: String] = [:]
            for field in request.headers { headers[field.name.canonicalName] = field.value }
            self.lock.withLock { self.deliveries.append(Delivery(headers: headers, body: Data(body.readableBytesView))) }
            return .ok
        }
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        var logger = Logger(label: "webhook-receiver")
        logger.logLevel = .critical
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                              onServerRunning: { continuation.yield($0.localAddress?.port ?? 0) }, logger: logger)
        task = Task { try await app.run() }
        for await port in ports {
            url = "http://127.0.0.1:\(port)/hook"
            break
        }
    }

    func stop() async {
        task?.cancel()
        _ = await task?.result
    }

    var received: [Delivery] { lock.withLock { deliveries } }

    /// Waits (bounded) for the first delivery.
    func first(within limit: Duration = .seconds(10)) async throws -> Delivery {
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline {
            if let delivery = received.first { return delivery }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw SandboxError("no webhook arrived within \(limit)")
    }
}

@Suite("WaveSpeed webhooks")
struct WebhookTests {
    @Test("the sandbox delivers a signed webhook that verifies; forged, re-signed and stale ones are rejected")
    func signedDelivery() async throws {
        let receiver = WebhookReceiver()
        try await receiver.start()
        defer { Task { await receiver.stop() } }
        try await Harness.with { h in
            let client = h.client(.wavespeed, webhook: receiver.url)
            let result = try await h.runner(client).run(
                GenerationRequest(model: "alibaba/wan-2.2/t2v-plus-480p", prompt: "hooked"), clipPath: h.path("w.mp4"))
            let delivery = try await receiver.first()
            let body = try JSONDecoder().decode(JSONValue.self, from: delivery.body)
            #expect(body["id"]?.stringValue == result.record.taskID)
            #expect(body["status"]?.stringValue == "completed")
            #expect(body["input"]?["prompt"]?.stringValue == "hooked")
            #expect(delivery.headers["webhook-signature"]?.hasPrefix("v3,") == true)

            let verifier = WebhookVerifier(secret: h.sandbox.configuration.webhookSecret)
            try verifier.verify(body: delivery.body, headers: delivery.headers)

            var forged = delivery.body
            forged[forged.startIndex + 10] ^= 0x01
            #expect(throws: WebhookVerifier.Rejection.signatureMismatch) {
                try verifier.verify(body: forged, headers: delivery.headers)
            }
            #expect(throws: WebhookVerifier.Rejection.signatureMismatch) {
                try WebhookVerifier(secret: "whsec_someone-else").verify(body: delivery.body, headers: delivery.headers)
            }
            let sent = TimeInterval(delivery.headers["webhook-timestamp"]!)!
            #expect(throws: WebhookVerifier.Rejection.stale(ageSeconds: 301)) {
                try verifier.verify(body: delivery.body, headers: delivery.headers, now: Date(timeIntervalSince1970: sent + 301))
            }
            var unsigned = delivery.headers
            unsigned["webhook-signature"] = nil
            #expect(throws: WebhookVerifier.Rejection.missingHeader("webhook-signature")) {
                try verifier.verify(body: delivery.body, headers: unsigned)
            }
        }
        await receiver.stop()
    }

    @Test("the verifier agrees with openssl on WaveSpeed's scheme: HMAC-SHA256 of id.timestamp.body, key without whsec_")
    func knownVector() throws {
        let body = #"{"id":"abc","status":"completed"}"#
        let (id, timestamp) = ("msg_1", "1700000000")
        let result = try Tool.run("sh", ["-c", "printf '%s' '\(id).\(timestamp).\(body)' | openssl dgst -sha256 -hmac 'topsecret' -hex"])
        let hex = try #require(result.text.split(separator: " ").last).trimmingCharacters(in: .whitespacesAndNewlines)
        let headers = ["Webhook-Id": id, "Webhook-Timestamp": timestamp, "Webhook-Signature": "v3,\(hex)"]
        try WebhookVerifier(secret: "whsec_topsecret").verify(body: Data(body.utf8), headers: headers,
                                                              now: Date(timeIntervalSince1970: 1_700_000_100))
        #expect(throws: WebhookVerifier.Rejection.self) {
            try WebhookVerifier(secret: "topsecre").verify(body: Data(body.utf8), headers: headers,
                                                          now: Date(timeIntervalSince1970: 1_700_000_100))
        }
        // HTTP's optional whitespace around a value is not part of it.
        let padded = ["webhook-id": "\t\(id) ", "webhook-timestamp": " \(timestamp)", "webhook-signature": "v3,\(hex) \t"]
        try WebhookVerifier(secret: "whsec_topsecret").verify(body: Data(body.utf8), headers: padded,
                                                              now: Date(timeIntervalSince1970: 1_700_000_100))
        // Upper-case hex, and a rotated key's signature beside the current one, pass; hex that is not hex
        // is a malformed signature, a signature of another key a mismatch.
        let now = Date(timeIntervalSince1970: 1_700_000_100)
        for accepted in ["v3,\(hex.uppercased())", "v1,abcd v3,\(String(repeating: "0", count: 64)) v3,\(hex)"] {
            var rotated = headers
            rotated["Webhook-Signature"] = accepted
            try WebhookVerifier(secret: "whsec_topsecret").verify(body: Data(body.utf8), headers: rotated, now: now)
        }
        for (signature, rejection) in [("v3,\(hex.dropLast())", WebhookVerifier.Rejection.malformedSignature("v3,\(hex.dropLast())")),
                                       ("v3,zz", .malformedSignature("v3,zz")), ("v3,", .malformedSignature("v3,")),
                                       ("v2,\(hex)", .malformedSignature("v2,\(hex)")),
                                       ("v3,\(String(repeating: "ab", count: 32))", .signatureMismatch)] {
            var forged = headers
            forged["Webhook-Signature"] = signature
            #expect(throws: rejection, "\(signature)") {
                try WebhookVerifier(secret: "whsec_topsecret").verify(body: Data(body.utf8), headers: forged, now: now)
            }
        }
        // Timestamps that parse as numbers but are not Unix seconds (INF crashed the server: schemathesis).
        for bad in ["INF", "nan", "1e9", "-5", "0x10", " ", "99999999999999999999"] {
            var forged = headers
            forged["Webhook-Timestamp"] = bad
            #expect(throws: WebhookVerifier.Rejection.self, "\(bad)") {
                try WebhookVerifier(secret: "whsec_topsecret").verify(body: Data(body.utf8), headers: forged)
            }
        }
    }
}
