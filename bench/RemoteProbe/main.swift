// bench/remote-probe.sh's server: N clip URLs (the samples, repeated) on a loopback HTTP server with
// Range, counting requests and bytes (GET /_stats, POST /_reset).
//   ClipKitRemoteBench COUNT SAMPLE...      prints the base URL, then serves until killed
import ClipKitFileServer
import Foundation

let arguments = CommandLine.arguments.dropFirst()
guard let count = arguments.first.flatMap({ Int($0) }), arguments.count > 1 else {
    FileHandle.standardError.write(Data("usage: ClipKitRemoteBench COUNT SAMPLE...\n".utf8))
    exit(2)
}
let samples = Array(arguments.dropFirst())
var files: [String: String] = [:]
for i in 0..<count { files[String(format: "clip-%05d.mp4", i)] = samples[i % samples.count] }
let server = try await ClipFileServer.start(files: files)
FileHandle.standardOutput.write(Data((server.baseURL + "\n").utf8))
while true { try await Task.sleep(for: .seconds(3600)) }
