import ClipKitCore
import ClipKitMedia
import Foundation
import Hummingbird

extension Handlers {
    /// A picture from a data URI or one of the sandbox's own uploads; the sandbox fetches nothing else.
    func image(_ reference: String, field: String) async throws -> RGBImage {
        let data: Data
        if reference.hasPrefix("data:") {
            guard let comma = reference.firstIndex(of: ","), reference[..<comma].hasSuffix(";base64"),
                  let decoded = Data(base64Encoded: String(reference[reference.index(after: comma)...])) else {
                throw Refusal(status: .badRequest, code: "InvalidParameter", message: "\(field) is not a base64 data URI.")
            }
            data = decoded
        } else if let range = reference.range(of: "/media/"), reference.hasPrefix(await state.baseURL),
                  let stored = await state.media(String(reference[range.upperBound...])) {
            data = stored
        } else {
            throw Refusal(status: .badRequest, code: "InvalidParameter.DataInspection",
                          message: "\(field): the sandbox is offline and reads only data URIs and its own uploads, not \(reference.prefix(80))")
        }
        let path = state.directory + "/input-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: path) }
        do {
            try data.write(to: URL(fileURLWithPath: path))
            return try RGBImage.load(path)
        } catch {
            throw Refusal(status: .badRequest, code: "InvalidParameter.DataInspection", message: "\(field) is not a readable image.")
        }
    }

    /// DashScope's kf2v frame limits: 360–2000 px a side.
    static func checkKeyframeLimits(_ image: RGBImage, field: String) throws {
        let sides = [image.width, image.height]
        guard sides.allSatisfy({ (360...2000).contains($0) }) else {
            throw Refusal(status: .badRequest, code: "InvalidParameter",
                          message: "\(field) is \(image.width)x\(image.height); each side must be 360–2000 px.")
        }
    }
}
