// `import ClipKit` is all a pipeline writes. The layers stay separate modules (so the audit and the
// provider clients build and test without FFmpeg), and this module re-exports the ones a pipeline calls:
// whole modules rather than chosen symbols, since every public type in them is part of the library.
// ClipKitMP4 (the pure-Swift probe MediaProbe uses) and the front ends are left out; the offline sandbox
// is its own product, `import ClipKitSandbox`.

@_exported import ClipKitAudit
@_exported import ClipKitChain
@_exported import ClipKitCore
@_exported import ClipKitMedia
@_exported import ClipKitProviders
