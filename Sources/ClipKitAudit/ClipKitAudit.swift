// The audit layer: price book, provider records, checks in money. Pure Swift; never imports CFFmpeg.
import ClipKitCore
