import ClipKitCore
import ClipKitMedia
@testable import ClipKitProviders
import Foundation
import NIOCore
import Testing

@Suite("retry, credentials, downloads: the parts without a server")
struct UnitTests {
    @Test("backoff doubles up to the cap, jitter stays within bounds, Retry-After wins when longer but is capped")
    func backoff() {
        let policy = RetryPolicy(initialDelay: .milliseconds(100), maxDelay: .seconds(1), jitter: 0.25, maxRetryAfter: .seconds(30))
        #expect(policy.delay(afterAttempt: 1, retryAfter: nil, random: 0.5) == .milliseconds(100))
        #expect(policy.delay(afterAttempt: 3, retryAfter: nil, random: 0.5) == .milliseconds(400))
        #expect(policy.delay(afterAttempt: 10, retryAfter: nil, random: 0.5) == .seconds(1))
        #expect(policy.delay(afterAttempt: 1, retryAfter: nil, random: 0) == .milliseconds(75))
        #expect(policy.delay(afterAttempt: 1, retryAfter: nil, random: 1) == .milliseconds(125))
        #expect(policy.delay(afterAttempt: 1, retryAfter: .seconds(5), random: 0.5) == .seconds(5))
        #expect(policy.delay(afterAttempt: 1, retryAfter: .seconds(500), random: 0.5) == .seconds(30))
    }

    @Test("Retry-After as seconds and as an HTTP date")
    func retryAfter() {
        #expect(RetryPolicy.parseRetryAfter("7") == .seconds(7))
        let now = Date(timeIntervalSince1970: 1_700_000_000)
        #expect(RetryPolicy.parseRetryAfter("Tue, 14 Nov 2023 22:13:30 GMT", now: now) == .seconds(10))
        #expect(RetryPolicy.parseRetryAfter("soon") == nil)
    }

    @Test("keys: the environment wins over the config file, and a key never prints")
    func credentials() async throws {
        let path = NSTemporaryDirectory() + "clipkit-config-\(UUID().uuidString).json"
        try Data(#"{"dashscope": {"api_key": "sk-from-file", "base_url": "https://router.example/alibailian"}}"#.utf8)
            .write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let fromFile = try ProviderCredentials.load(provider: "dashscope", configPath: path, environment: [:])
        #expect(fromFile.apiKey == APIKey("sk-from-file") && fromFile.baseURL == "https://router.example/alibailian")
        let fromEnv = try ProviderCredentials.load(provider: "dashscope", configPath: path, environment: ["DASHSCOPE_API_KEY": "sk-env"])
        #expect(fromEnv.apiKey == APIKey("sk-env"))
        #expect("\(fromEnv.apiKey!)" == "<redacted API key>" && !String(reflecting: fromEnv).contains("sk-env"))
        let none = try ProviderCredentials.load(provider: "wavespeed", configPath: path, environment: [:])
        let transport = HTTPTransport()
        #expect(throws: ProviderError.self) { try ProviderKind.wavespeed.client(credentials: none, transport: transport, media: FFmpegToolkit()) }
        try await transport.shutdown()
        #expect(ProviderError.missingAPIKey(provider: "wavespeed", variable: "WAVESPEED_API_KEY").description.contains("WAVESPEED_API_KEY"))
    }

    @Test("object storage's XML and HTML pages are told from video bytes")
    func markup() {
        #expect(Downloader.looksLikeMarkup(Data("<?xml version=\"1.0\"?><Error>".utf8)))
        #expect(Downloader.looksLikeMarkup(Data("  <!DOCTYPE html><html>".utf8)))
        #expect(!Downloader.looksLikeMarkup(Data([0, 0, 0, 0x20, 0x66, 0x74, 0x79, 0x70])))
        let detail = Downloader.errorDetail(ByteBuffer(string: "<Error><Code>AccessDenied</Code><Message>Request has expired.</Message></Error>"))
        #expect(detail == "AccessDenied: Request has expired.")
        #expect(Downloader.contentRangeStart("bytes 100-199/1000") == 100 && Downloader.contentRangeTotal("bytes 100-199/1000") == 1000)
    }

    @Test("images are fitted to 360–2000 px a side, keeping the aspect")
    func imageLimits() throws {
        let big = try ImagePreparation.fitted(testPicture(width: 2400, height: 1800), media: FFmpegToolkit())
        #expect(big.width == 2000 && big.height == 1500)
        let small = try ImagePreparation.fitted(testPicture(width: 320, height: 240), media: FFmpegToolkit())
        #expect(small.width == 480 && small.height == 360)
    }

    @Test("records drop secrets and shorten data URIs")
    func sanitizing() throws {
        let body: JSONValue = .object(["api_key": .string(testKey), "input": .object(["img_url": .string("data:image/png;base64,AAAA")])])
        let text = String(decoding: try JSONValue.encode(TaskRecord.sanitized(body)), as: UTF8.self)
        #expect(!text.contains(testKey) && text.contains("<4 bytes>"))
    }
}
