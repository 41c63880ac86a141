import ClipKitCore
import Foundation

/// A voice track made ready to send (s2v): what goes in `input.audio_url`, and its decoded length.
struct PreparedVoice: Sendable {
    /// A data URI (`data:audio/mpeg;base64,…`) for a local file, or the URL given.
    var reference: String
    /// Seconds of sound, decoded: what the clip and its bill should last. Nil for a URL, not fetched.
    var duration: Double?
}

/// Turns an `AudioInput` into what DashScope accepts. A local file is decoded first (to refuse one
/// without sound before anything is paid for, and to record what the clip should last), then sent
/// unchanged inline as a data URI, as local images are: DashScope documents inline data for images,
/// and neither the seeds nor providers.md name an upload endpoint that a router would pass through.
enum VoicePreparation {
    /// MIME types by FFmpeg container name or file extension.
    static let mimeTypes = ["mp3": "audio/mpeg", "wav": "audio/wav", "mp4": "audio/mp4", "mov": "audio/mp4",
                            "m4a": "audio/mp4", "aac": "audio/aac", "ogg": "audio/ogg", "flac": "audio/flac"]

    /// - Throws: `ProviderError.audioUnreadable` naming the file and the failed step.
    static func prepare(_ input: AudioInput, provider: String, media: any MediaToolkit) async throws -> PreparedVoice {
        guard case .file(let path) = input else { return PreparedVoice(reference: input.label, duration: nil) }
        let info = await media.probeAudio(path)
        if let problem = info.error {
            throw ProviderError.audioUnreadable(provider: provider, audio: path, "cannot use it as a voice track: \(problem)")
        }
        guard let duration = info.audio?.duration, duration > 0 else {
            throw ProviderError.audioUnreadable(provider: provider, audio: path, "it decodes to no sound")
        }
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw ProviderError.audioUnreadable(provider: provider, audio: path, "cannot read it: \(error.localizedDescription)")
        }
        let type = info.container.flatMap { mimeTypes[$0] } ?? mimeTypes[(path as NSString).pathExtension.lowercased()]
            ?? "application/octet-stream"
        return PreparedVoice(reference: "data:\(type);base64,\(data.base64EncodedString())", duration: duration)
    }
}
