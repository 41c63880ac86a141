import ClipKitCore
import ClipKitMedia
import Foundation

/// Runs external tools (ffmpeg, ffprobe, the clipkit binary) for tests.
public enum Tool {
    public struct Result: Sendable {
        public var status: Int32
        public var stdout: Data
        public var stderr: String
        public var text: String { String(decoding: stdout, as: UTF8.self) }
    }

    /// Runs `tool` (searched on PATH unless it is a path) and returns its exit status and output.
    public static func capture(_ tool: String, _ arguments: [String]) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool.hasPrefix("/") ? tool : "/usr/bin/env")
        process.arguments = tool.hasPrefix("/") ? arguments : [tool] + arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // Read both pipes concurrently so a chatty child cannot block on a full pipe.
        let errorData = LockedData()
        let reader = Thread { errorData.value = err.fileHandleForReading.readDataToEndOfFile() }
        reader.start()
        let output = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        while !errorData.done { usleep(1000) }
        return Result(status: process.terminationStatus, stdout: output, stderr: String(decoding: errorData.value, as: UTF8.self))
    }

    /// Runs `tool` and throws if it exits non-zero.
    @discardableResult
    public static func run(_ tool: String, _ arguments: [String]) throws -> Result {
        let result = try capture(tool, arguments)
        guard result.status == 0 else {
            throw ToolError(description: "\(tool) \(arguments.joined(separator: " ")) exited \(result.status): \(result.stderr)")
        }
        return result
    }
}

public struct ToolError: Error, CustomStringConvertible {
    public let description: String
}

private final class LockedData: @unchecked Sendable {
    private let lock = NSLock()
    private var data = Data()
    private var finished = false
    var value: Data {
        get { lock.withLock { data } }
        set { lock.withLock { data = newValue; finished = true } }
    }
    var done: Bool { lock.withLock { finished } }
}

/// ffprobe and ffmpeg as oracles.
public enum Oracle {
    /// Frames a full decode shows (ffprobe -count_frames).
    public static func decodedFrameCount(_ path: String) throws -> Int {
        let text = try Tool.run("ffprobe", ["-v", "error", "-count_frames", "-select_streams", "v:0",
                                           "-show_entries", "stream=nb_read_frames", "-of", "csv=p=0", path]).text
        guard let count = Int(text.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ",")[0]) else {
            throw ToolError(description: "ffprobe gave no frame count for \(path): \(text)")
        }
        return count
    }

    /// A stream field as ffprobe prints it (e.g. "avg_frame_rate", "duration", "width").
    public static func streamField(_ path: String, _ field: String, stream: String = "v:0") throws -> String {
        let text = try Tool.run("ffprobe", ["-v", "error", "-select_streams", stream, "-show_entries", "stream=\(field)",
                                           "-of", "csv=p=0", path]).text
        // Side data (a display matrix) is appended as extra fields: keep only the ones asked for.
        let fields = field.split(separator: ",").count
        return (text.split(separator: "\n").first ?? "").split(separator: ",", omittingEmptySubsequences: false)
            .prefix(fields).joined(separator: ",")
    }

    /// A container field as ffprobe prints it (e.g. "duration").
    public static func formatField(_ path: String, _ field: String) throws -> String {
        try Tool.run("ffprobe", ["-v", "error", "-show_entries", "format=\(field)", "-of", "csv=p=0", path]).text
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The display-matrix rotation ffprobe reports (counter-clockwise degrees), 0 if none.
    public static func sideDataRotation(_ path: String) throws -> Int {
        let text = try Tool.run("ffprobe", ["-v", "error", "-select_streams", "v:0", "-show_entries",
                                           "stream_side_data=rotation", "-of", "csv=p=0", path]).text
        return Int(text.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ",").first ?? "0") ?? 0
    }

    /// Every frame of a full ffmpeg decode as RGB (autorotated, converted with the same swscale flags
    /// ClipKit uses, so equal pictures give equal bytes).
    public static func decodedFrames(_ path: String) throws -> [RGBImage] {
        let size = try Tool.run("ffmpeg", ["-v", "info", "-i", path, "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24",
                                           "-an", "-vf", "showinfo", "-"])
        // The first frame's size after autorotation comes from showinfo's "s:WxH".
        guard let match = size.stderr.range(of: #"s:(\d+)x(\d+)"#, options: .regularExpression) else {
            throw ToolError(description: "no frame size in ffmpeg output for \(path)")
        }
        let dims = size.stderr[match].dropFirst(2).split(separator: "x").compactMap { Int($0) }
        let (width, height) = (dims[0], dims[1])
        let raw = try Tool.run("ffmpeg", ["-v", "error", "-i", path, "-an", "-vsync", "passthrough",
                                          "-sws_flags", "bicubic+accurate_rnd+full_chroma_int+full_chroma_inp",
                                          "-f", "rawvideo", "-pix_fmt", "rgb24", "-"]).stdout
        let frameBytes = width * height * 3
        return stride(from: 0, to: raw.count - frameBytes + 1, by: frameBytes).map {
            RGBImage(width: width, height: height, pixels: [UInt8](raw[$0..<($0 + frameBytes)]))
        }
    }

    /// Only the frames at `indices` (display order, from 0) of a full ffmpeg decode, as RGB, in one pass.
    public static func selectedFrames(_ path: String, indices: [Int]) throws -> [RGBImage] {
        let size = try streamField(path, "width,height").split(separator: ",").compactMap { Int($0) }
        let select = indices.map { "eq(n\\,\($0))" }.joined(separator: "+")
        let raw = try Tool.run("ffmpeg", ["-v", "error", "-i", path, "-an", "-vf", "select=\(select)", "-vsync", "passthrough",
                                          "-sws_flags", "bicubic+accurate_rnd+full_chroma_int+full_chroma_inp",
                                          "-f", "rawvideo", "-pix_fmt", "rgb24", "-"]).stdout
        let frameBytes = size[0] * size[1] * 3
        return stride(from: 0, to: raw.count - frameBytes + 1, by: frameBytes).map {
            RGBImage(width: size[0], height: size[1], pixels: [UInt8](raw[$0..<($0 + frameBytes)]))
        }
    }

    /// ffmpeg's psnr filter between two videos of the same size: average and worst frame, in dB (YUV).
    public static func psnr(_ a: String, _ b: String) throws -> (average: Double, minimum: Double) {
        let log = try Tool.run("ffmpeg", ["-v", "info", "-i", a, "-i", b, "-lavfi", "psnr", "-f", "null", "-"]).stderr
        func value(_ key: String) -> Double? {
            guard let range = log.range(of: key + #":[0-9.]+|"# + key + ":inf", options: .regularExpression) else { return nil }
            let text = log[range].dropFirst(key.count + 1)
            return text == "inf" ? .infinity : Double(text)
        }
        guard let average = value("average"), let minimum = value("min") else {
            throw ToolError(description: "no PSNR in ffmpeg output comparing \(a) and \(b)")
        }
        return (average, minimum)
    }
}
