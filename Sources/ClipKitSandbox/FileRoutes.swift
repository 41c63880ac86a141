import Foundation
import Hummingbird
import NIOCore

extension Handlers {
    /// Clip downloads (`/files`, shaped like object storage) and WaveSpeed uploads (`/media`).
    func registerFiles(on router: Router<BasicRequestContext>) {
        router.get("/files/:name") { request, context in try await self.file(request, name: context.parameters.get("name") ?? "") }
        router.get("/media/:name") { _, context in
            guard let name = context.parameters.get("name"), let data = await self.state.media(name) else {
                return Response(status: .notFound)
            }
            let type = name.hasSuffix(".png") ? "image/png" : "image/jpeg"
            return Response(status: .ok, headers: [.contentType: type], body: .init(byteBuffer: ByteBuffer(bytes: data)))
        }
    }

    /// Serves a clip with `Range`, `ETag` and the expired-URL and cut faults.
    func file(_ request: Request, name: String) async throws -> Response {
        let token = name.hasSuffix(".mp4") ? String(name.dropLast(4)) : name
        guard let (task, cut) = await state.download(token: token, ranged: request.headers[.range] != nil),
              let path = task.filePath else {
            return Self.storageError(.notFound, code: "NoSuchKey", message: "The specified key does not exist.")
        }
        if task.expiredURL {
            return Self.storageError(.forbidden, code: "AccessDenied", message: "Request has expired.")
        }
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.intValue ?? 0
        let etag = "\"\(token)-\(size)\""
        var start = 0, end = size - 1, partial = false
        if let range = request.headers[.range], request.headers[.ifRange].map({ $0 == etag }) ?? true,
           range.hasPrefix("bytes="), let dash = range.firstIndex(of: "-") {
            let first = Int(range[range.index(range.startIndex, offsetBy: 6)..<dash])
            let last = Int(range[range.index(after: dash)...])
            guard let first, first < size else {
                return Response(status: .rangeNotSatisfiable, headers: [.contentRange: "bytes */\(size)"])
            }
            (start, end, partial) = (first, min(last ?? size - 1, size - 1), true)
        }
        let length = end - start + 1
        var headers: HTTPFields = [.contentType: "video/mp4", .acceptRanges: "bytes", .eTag: etag]
        if partial { headers[.contentRange] = "bytes \(start)-\(end)/\(size)" }
        let cutAfter = cut ? await state.faults.cutAfterBytes : nil
        let offset = start
        let body = ResponseBody(contentLength: length) { writer in
            guard let handle = FileHandle(forReadingAtPath: path) else { throw SandboxError("cannot read \(path)") }
            defer { try? handle.close() }
            try handle.seek(toOffset: UInt64(offset))
            var sent = 0
            while sent < length {
                var chunk = min(64 << 10, length - sent)
                if let cutAfter { chunk = min(chunk, max(0, cutAfter - sent)) }
                if chunk == 0 {
                    // Let the client take the bytes already sent, as over a real network, before the cut.
                    try await Task.sleep(for: .milliseconds(100))
                    throw SandboxError("download cut after \(sent) bytes by the cutAfterBytes fault", code: .injectedFault)
                }
                guard let data = try handle.read(upToCount: chunk), !data.isEmpty else { break }
                try await writer.write(ByteBuffer(bytes: data))
                sent += data.count
            }
            try await writer.finish(nil)
        }
        return Response(status: partial ? .partialContent : .ok, headers: headers, body: body)
    }

    /// Object storage's XML error, as an expired signed URL answers.
    static func storageError(_ status: HTTPResponse.Status, code: String, message: String) -> Response {
        let xml = """
            <?xml version="1.0" encoding="UTF-8"?>
            <Error>
              <Code>\(code)</Code>
              <Message>\(message)</Message>
              <RequestId>\(UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(24))</RequestId>
              <HostId>sandbox-oss.127.0.0.1</HostId>
            </Error>
            """
        return Response(status: status, headers: [.contentType: "application/xml"], body: .init(byteBuffer: ByteBuffer(string: xml)))
    }
}
