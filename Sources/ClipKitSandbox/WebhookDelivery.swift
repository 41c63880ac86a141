import AsyncHTTPClient
import ClipKitCore
import Crypto
import Foundation
import NIOCore

extension Handlers {
    /// POSTs a signed WaveSpeed webhook: `webhook-signature: v3,<hex HMAC-SHA256 of "id.timestamp.body">`,
    /// keyed with the secret minus `whsec_`. Retried twice on failure.
    func deliverWebhook(to url: String, body: JSONValue) async {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let raw = try? encoder.encode(body) else { return }
        let id = "msg_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        let timestamp = String(Int(Date().timeIntervalSince1970))
        let secret = configuration.webhookSecret.hasPrefix("whsec_")
            ? String(configuration.webhookSecret.dropFirst("whsec_".count)) : configuration.webhookSecret
        var signed = Data("\(id).\(timestamp).".utf8)
        signed.append(raw)
        let mac = HMAC<SHA256>.authenticationCode(for: signed, using: SymmetricKey(data: Data(secret.utf8)))
        let signature = mac.map { String(format: "%02x", $0) }.joined()
        for attempt in 0..<3 {
            await state.countWebhook()
            var request = HTTPClientRequest(url: url)
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/json")
            request.headers.add(name: "webhook-id", value: id)
            request.headers.add(name: "webhook-timestamp", value: timestamp)
            request.headers.add(name: "webhook-signature", value: "v3,\(signature)")
            request.body = .bytes(ByteBuffer(bytes: raw))
            if let response = try? await webhookClient.execute(request, timeout: .seconds(10)),
               (200..<300).contains(response.status.code) {
                return
            }
            try? await Task.sleep(for: .milliseconds(200 * (attempt + 1)))
        }
    }
}
