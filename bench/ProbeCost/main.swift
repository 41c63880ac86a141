// In-process cost of probing one clip each way: ClipKitMP4's index reader against FFmpeg's demuxer.
// Printed, never asserted (the machine is shared). Run through bench/probe-cost.sh.
import ClipKitMP4
import ClipKitMedia
import Foundation

let arguments = CommandLine.arguments.dropFirst()
let path = arguments.first ?? "samples/wan25-720p-1280x720-24fps-audio.mp4"
let runs = arguments.dropFirst().first.flatMap(Int.init) ?? 200

func average(_ body: () -> Void) -> Duration {
    body()  // warm the page cache and any lazy set-up
    return ContinuousClock().measure { for _ in 0..<runs { body() } } / runs
}

guard MP4Probe.probe(path) != nil else {
    FileHandle.standardError.write(Data("\(path): not answered by ClipKitMP4 (it falls back to FFmpeg)\n".utf8))
    exit(2)
}
let fast = average { _ = MP4Probe.probe(path) }
let ffmpeg = average { _ = MediaProbe.probeWithFFmpeg(path) }
func microseconds(_ duration: Duration) -> String { String(format: "%.1f µs", duration / .microseconds(1)) }
print("probe \(path), \(runs) runs: MP4Probe \(microseconds(fast)), FFmpeg \(microseconds(ffmpeg)) per call "
    + "(FFmpeg / MP4Probe = \(String(format: "%.1f", ffmpeg / fast)))")
