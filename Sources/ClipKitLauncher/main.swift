// `clipkit`: the command users run.
//
// Loading FFmpeg is the slowest part of a one-file probe: Debian's libavformat and libavcodec pull in
// 136 shared libraries, ~30 ms of dynamic linking before main() runs, against well under a millisecond
// for reading an MP4 index. So this binary links no FFmpeg. It answers `clipkit probe` for ordinary, complete MP4 files from their
// index in pure Swift (ClipKitMP4, checked field for field against the FFmpeg prober in the tests),
// and hands everything else — other commands, options, containers, any file it is not sure of — to
// `clipkit-engine` beside it by exec: same process, arguments, output and exit code.
import ClipKitConsole
import ClipKitCore
import ClipKitMP4
import Foundation
import Synchronization

/// The files and format of a `probe` invocation the fast path can answer, or nil to leave it to the engine.
func fastProbeRequest(_ arguments: [String]) -> (files: [String], format: ProbeFormat)? {
    guard arguments.count > 2, arguments[1] == "probe" else { return nil }
    var files: [String] = [], format = ProbeFormat.table
    var rest = arguments.dropFirst(2)[...]
    while let argument = rest.popFirst() {
        if argument == "--format", let value = rest.popFirst().flatMap(ProbeFormat.init(rawValue:)) {
            format = value
        } else if argument.hasPrefix("--format="), let value = ProbeFormat(rawValue: String(argument.dropFirst(9))) {
            format = value
        } else if argument.hasPrefix("-") || argument.contains("://") || argument.isEmpty {
            return nil  // options (--deep, --help, …), URLs and odd names: the engine's full parser decides
        } else {
            files.append(argument)
        }
    }
    return files.isEmpty ? nil : (files, format)
}

/// Probes every file from its MP4 index, in parallel; nil as soon as one needs FFmpeg.
func fastProbe(_ files: [String]) -> [MediaInfo]? {
    let results = UnsafeMutableBufferPointer<MediaInfo?>.allocate(capacity: files.count)
    results.initialize(repeating: nil)
    defer {
        results.deinitialize()
        results.deallocate()
    }
    let progress = files.count > 20 ? ProgressLine(label: "probed", total: files.count) : nil
    let done = Atomic(0), needsEngine = Atomic(false)
    // Each iteration writes only its own slot.
    nonisolated(unsafe) let slots = results
    DispatchQueue.concurrentPerform(iterations: files.count) { i in
        guard !needsEngine.load(ordering: .relaxed) else { return }
        guard let info = MP4Probe.probe(files[i]) else { return needsEngine.store(true, ordering: .relaxed) }
        slots[i] = info
        progress?.update(done.add(1, ordering: .relaxed).newValue)
    }
    if needsEngine.load(ordering: .relaxed) { return nil }
    progress?.finish()
    return results.map { $0! }
}

/// Replaces this process with `clipkit-engine` from the same directory, passing the arguments on.
func execEngine() -> Never {
    let directory = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
    let engine = directory.appendingPathComponent("clipkit-engine").path
    execv(engine, CommandLine.unsafeArgv)
    let reason = String(cString: strerror(errno))
    Stderr.print("clipkit: cannot run \(engine): \(reason) (install clipkit-engine beside clipkit)")
    exit(127)  // the shell's "command not found"
}

if let request = fastProbeRequest(CommandLine.arguments), let infos = fastProbe(request.files),
   let text = try? request.format.render(infos) {
    Stdout.write(text)
    exit(0)
}
execEngine()
