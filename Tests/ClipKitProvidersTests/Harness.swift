import ClipKitCore
import ClipKitMedia
@testable import ClipKitProviders
import ClipKitSandbox
import ClipKitSandboxTestSupport
import ClipKitTestSupport
import Foundation
import Testing

/// A key distinctive enough that finding it anywhere in output or records means a leak.
let testKey = SandboxSession.apiKey

/// The shared sandbox session, with the provider tests' clients and fast runners.
typealias Harness = SandboxSession

extension SandboxSession {
    /// A client for `kind` pointed at the sandbox.
    func client(_ kind: ProviderKind, key: String = testKey, base: String? = nil, webhook: String? = nil) -> any VideoProvider {
        let fast = RetryPolicy(maxAttempts: 8, initialDelay: .milliseconds(5), maxDelay: .milliseconds(40))
        return try! kind.client(credentials: ProviderCredentials(apiKey: APIKey(key), baseURL: nil), transport: transport,
                                media: FFmpegToolkit(), baseURL: base ?? sandbox.baseURL, retry: fast, webhookURL: webhook)
    }

    /// A runner with millisecond polling and retries, so fault tests stay short. The deadline is generous:
    /// the sandbox renders every clip with x264 on the shared media executor, whose long-work slots every
    /// suite running in parallel queues for, so on two cores a render can wait many minutes (300 s was
    /// exceeded in CI); a passing test never waits for it.
    func runner(_ provider: any VideoProvider, deadline: Duration = .seconds(1200)) -> TaskRunner {
        let fast = RetryPolicy(maxAttempts: 8, initialDelay: .milliseconds(5), maxDelay: .milliseconds(40))
        return TaskRunner(provider: provider, transport: transport, options: RunnerOptions(
            pollInterval: .milliseconds(15), maxPollInterval: .milliseconds(60), deadline: deadline, submitRetry: fast,
            downloadRetry: fast, listingSettle: .milliseconds(50)))
    }
}

/// Collects a run's events (thread-safe), to assert their order and that no key shows up in them.
final class EventLog: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [String] = []

    var callback: @Sendable (RunEvent) async -> Void { { [self] event in self.append("\(event)") } }

    func append(_ text: String) { lock.withLock { items.append(text) } }
    var all: [String] { lock.withLock { items } }
}

/// A photo-like picture: smooth gradients and soft waves (no hard chroma edges, which no camera or
/// model produces and which 4:2:0 video cannot keep), so PSNR against it measures the generation.
func testPicture(width: Int = 640, height: Int = 480, shift: Int = 0) -> RGBImage {
    var pixels = [UInt8](repeating: 0, count: width * height * 3)
    let phase = Double(shift) / 30
    for y in 0..<height {
        for x in 0..<width {
            let i = (y * width + x) * 3
            let u = Double(x) / Double(width), v = Double(y) / Double(height)
            pixels[i] = UInt8(40 + 170 * u)
            pixels[i + 1] = UInt8(60 + 120 * v + 30 * sin(6 * u + phase))
            pixels[i + 2] = UInt8(128 + 80 * sin(5 * v + 3 * u + phase))
        }
    }
    return RGBImage(width: width, height: height, pixels: pixels)
}

/// Writes a picture as PNG and returns its path.
func writePicture(_ image: RGBImage, _ path: String) throws -> String {
    try image.write(to: path, overwrite: true)
    return path
}

/// Mean of each channel, to measure colour drift.
func channelMeans(_ image: RGBImage) -> (r: Double, g: Double, b: Double) {
    var sums = [0.0, 0.0, 0.0]
    for i in stride(from: 0, to: image.pixels.count, by: 3) {
        sums[0] += Double(image.pixels[i])
        sums[1] += Double(image.pixels[i + 1])
        sums[2] += Double(image.pixels[i + 2])
    }
    let n = Double(image.pixels.count / 3)
    return (sums[0] / n, sums[1] / n, sums[2] / n)
}

/// Asserts that nothing a user can see (events, the record file, an error) contains the key.
func expectNoKey(_ texts: [String], sourceLocation: SourceLocation = #_sourceLocation) {
    for text in texts {
        #expect(!text.contains(testKey), "API key leaked into: \(text.prefix(200))", sourceLocation: sourceLocation)
    }
}

func recordText(_ clipPath: String) -> String {
    (try? String(contentsOfFile: TaskRecord.path(forClip: clipPath), encoding: .utf8)) ?? ""
}

/// The picture centre-cropped to w:h and scaled: how a model fits an input of another aspect.
func covered(_ image: RGBImage, _ width: Int, _ height: Int) throws -> RGBImage {
    let target = Double(width) / Double(height), source = Double(image.width) / Double(image.height)
    var cropW = image.width, cropH = image.height
    if source > target { cropW = Int(Double(image.height) * target) } else { cropH = Int(Double(image.width) / target) }
    let x0 = (image.width - cropW) / 2, y0 = (image.height - cropH) / 2
    var pixels = [UInt8]()
    pixels.reserveCapacity(cropW * cropH * 3)
    for y in y0..<(y0 + cropH) {
        pixels.append(contentsOf: image.pixels[((y * image.width + x0) * 3)..<((y * image.width + x0 + cropW) * 3)])
    }
    return try RGBImage(width: cropW, height: cropH, pixels: pixels).resized(width: width, height: height)
}
