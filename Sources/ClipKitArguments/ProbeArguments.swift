import ArgumentParser
import ClipKitConsole

/// The arguments of `clipkit probe`, parsed the same way by the launcher (its fast path) and by
/// the engine, so the two cannot disagree on what an invocation means.
public struct ProbeArguments: ParsableArguments {
    @Argument(help: "Clip files or URLs to probe.")
    public var files: [String] = []

    @Option(help: "Output format: table, json (an array) or jsonl (one object per line).")
    public var format: ProbeFormat = .table

    @Flag(help: "Decode every frame and report the decoded count and decode errors.")
    public var deep = false

    public init() {}
}

extension ProbeFormat: ExpressibleByArgument {}
