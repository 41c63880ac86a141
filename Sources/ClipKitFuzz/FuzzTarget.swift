// The libFuzzer target over ClipKitMP4's readers of untrusted bytes (see FuzzEntry). It links no
// FFmpeg. fuzz/run.sh builds it with -DFUZZING and -sanitize=fuzzer,address, and libFuzzer supplies
// main(); an ordinary build gets a main that replays inputs, to look at one without libFuzzer:
//   swift run ClipKitFuzz crash-0123abcd…
import ClipKitMP4

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ count: Int) -> Int32 {
    FuzzEntry.readAll(data.map { Array(UnsafeBufferPointer(start: $0, count: count)) } ?? [])
    return 0
}

#if !FUZZING
import Foundation

@main
struct Replay {
    static func main() throws {
        for path in CommandLine.arguments.dropFirst() {
            let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
            FuzzEntry.readAll(bytes)
            print("\(path): \(bytes.count) bytes read by every reader")
        }
    }
}
#endif
