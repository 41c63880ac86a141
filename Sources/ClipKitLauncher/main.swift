// `clipkit`: the command users run.
//
// Loading FFmpeg is the slowest part of a one-file probe: Debian's libavformat and libavcodec pull in
// 136 shared libraries, ~30 ms of dynamic linking before main() runs, against well under a millisecond
// for reading an MP4 index. So this binary links no FFmpeg. It answers `clipkit probe` and
// `clipkit verify` (the per-clip pipeline step) for ordinary, complete MP4 files from their index in
// pure Swift (ClipKitMP4, checked field for field against the FFmpeg prober in the tests), with the
// engine's own argument types (ClipKitArguments) and output, and hands everything else — other
// commands, --deep, --audio-file, --help, bad arguments, non-HTTP URLs, any file it is not sure of — to `clipkit-engine`
// beside it by exec: same process, arguments, output and exit code.
import ArgumentParser
import ClipKitArguments
import ClipKitConsole
import ClipKitCore
import ClipKitMP4
import ClipKitRemote
import Foundation
import Synchronization

/// Probes every file from its MP4 index, in parallel; nil as soon as one needs FFmpeg. http(s) URLs
/// are read with Range requests (ClipKitRemote); other URLs are FFmpeg's.
func fastProbe(_ files: [String]) -> [MediaInfo]? {
    guard !files.isEmpty, !files.contains(where: { ($0.contains("://") && !RemoteClip.isRemote($0)) || $0.isEmpty }) else { return nil }
    if files.allSatisfy(RemoteClip.isRemote) { return remoteFastProbe(files) }
    guard !files.contains(where: RemoteClip.isRemote) else { return mixedFastProbe(files) }
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

/// Local files and URLs in one list: each kind its own way, answers in input order.
func mixedFastProbe(_ files: [String]) -> [MediaInfo]? {
    let remote = files.indices.filter { RemoteClip.isRemote(files[$0]) }, local = files.indices.filter { !RemoteClip.isRemote(files[$0]) }
    guard let remoteInfos = remoteFastProbe(remote.map { files[$0] }), let localInfos = fastProbe(local.map { files[$0] }) else { return nil }
    var infos = [MediaInfo?](repeating: nil, count: files.count)
    for (index, info) in zip(remote, remoteInfos) { infos[index] = info }
    for (index, info) in zip(local, localInfos) { infos[index] = info }
    return infos.map { $0! }
}

/// Answers `probe` or `verify` if the fast path can, and exits; returns when the engine must.
func answerFast(_ arguments: [String]) {
    guard arguments.count > 1 else { return }
    let rest = Array(arguments.dropFirst(2))
    switch arguments[1] {
    case "probe":
        // A parse error or --help is the engine's to print, with its full usage.
        guard let probe = try? ProbeArguments.parse(rest), !probe.deep, let infos = fastProbe(probe.files),
              let text = try? probe.format.render(infos)
        else { return }
        Stdout.write(text)
        exit(0)
    case "verify":
        guard let verify = try? VerifyArguments.parse(rest), !verify.deep, verify.audioFile == nil, let info = fastProbe([verify.file])?.first else { return }
        let verdict = verify.verdict(for: info)
        Stdout.write(verdict.stdout)
        FileHandle.standardError.write(Data(verdict.stderr.utf8))
        exit(verdict.status)
    default:
        return
    }
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

answerFast(CommandLine.arguments)
execEngine()
