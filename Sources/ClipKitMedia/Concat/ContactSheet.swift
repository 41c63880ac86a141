import ClipKitCore
import Foundation

/// A picture a user can glance at: for every seam, the last frame before beside the first frame after,
/// labelled with the clips, frames dropped and colour difference.
public enum ContactSheet {
    /// Renders one row per seam; thumbnails are `thumbnailWidth` wide.
    /// - Throws: `FFmpegError` if a thumbnail cannot be scaled.
    public static func render(_ result: ConcatResult, thumbnailWidth: Int = 320) throws -> RGBImage {
        let rows = try zip(result.report.seams, result.seamPictures).enumerated().map { index, pair throws -> RGBImage in
            let (seam, pictures) = pair
            let name = { (path: String) in URL(fileURLWithPath: path).lastPathComponent }
            let title = "SEAM \(index + 1): \(name(seam.from)) > \(name(seam.to))"
            let facts = String(format: "DROPPED %d  SIMILARITY %.1f DB  DELTA E %.2f > %.2f  %@", seam.framesDropped,
                               seam.similarity, seam.deltaEBefore, seam.deltaEAfter, seam.handling.rawValue.uppercased())
            return try row(title: title, facts: facts, before: pictures.before, after: pictures.after, width: thumbnailWidth)
        }
        guard !rows.isEmpty else {
            var canvas = Canvas(width: 2 * thumbnailWidth + 24, height: 40)
            canvas.text("NO SEAMS: ONE CLIP", x: 8, y: 12)
            return canvas.image
        }
        var sheet = Canvas(width: rows.map(\.width).max()!, height: rows.reduce(0) { $0 + $1.height })
        var y = 0
        for row in rows {
            sheet.paste(row, x: 0, y: y)
            y += row.height
        }
        return sheet.image
    }

    private static func row(title: String, facts: String, before: RGBImage, after: RGBImage, width: Int) throws -> RGBImage {
        let height = max(2, Int((Double(before.height) * Double(width) / Double(before.width) / 2).rounded()) * 2)
        let gap = 8, header = 44, footer = 22
        let textWidth = max(title.count, facts.count) * 12 + 2 * gap
        var canvas = Canvas(width: max(2 * width + 3 * gap, textWidth), height: header + height + footer)
        canvas.text(title, x: gap, y: 6)
        canvas.text(facts, x: gap, y: 24)
        canvas.paste(try before.resized(width: width, height: height), x: gap, y: header)
        canvas.paste(try after.resized(width: width, height: height), x: 2 * gap + width, y: header)
        canvas.text("LAST FRAME BEFORE", x: gap, y: header + height + 4)
        canvas.text("FIRST FRAME AFTER", x: 2 * gap + width, y: header + height + 4)
        return canvas.image
    }
}

/// A white-on-dark RGB canvas with a tiny built-in font, so labels need no font files.
struct Canvas {
    private(set) var image: RGBImage

    init(width: Int, height: Int) {
        image = RGBImage(width: width, height: height, pixels: [UInt8](repeating: 32, count: width * height * 3))
    }

    var width: Int { image.width }
    var height: Int { image.height }

    mutating func paste(_ picture: RGBImage, x: Int, y: Int) {
        for row in 0..<min(picture.height, height - y) {
            let source = row * picture.width * 3, target = ((y + row) * width + x) * 3
            let count = min(picture.width, width - x) * 3
            image.pixels.replaceSubrange(target..<(target + count), with: picture.pixels[source..<(source + count)])
        }
    }

    /// Draws upper-case text at twice the 5×7 glyph size.
    mutating func text(_ string: String, x: Int, y: Int, scale: Int = 2) {
        var cursor = x
        for character in string.uppercased() {
            let rows = Glyphs.rows(for: character)
            for (r, bits) in rows.enumerated() {
                for c in 0..<5 where bits & (0x10 >> c) != 0 {
                    for dy in 0..<scale {
                        for dx in 0..<scale {
                            let px = cursor + c * scale + dx, py = y + r * scale + dy
                            guard px < width, py < height else { continue }
                            let i = (py * width + px) * 3
                            image.pixels[i] = 240
                            image.pixels[i + 1] = 240
                            image.pixels[i + 2] = 240
                        }
                    }
                }
            }
            cursor += 6 * scale
        }
    }
}

/// A classic 5×7 bitmap font: seven rows of five bits per glyph, most significant bit on the left.
enum Glyphs {
    static func rows(for character: Character) -> [UInt8] { table[character] ?? table["?"]! }

    private static let table: [Character: [UInt8]] = [
        "0": [0x0E, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0E], "1": [0x04, 0x0C, 0x04, 0x04, 0x04, 0x04, 0x0E],
        "2": [0x0E, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1F], "3": [0x1F, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0E],
        "4": [0x02, 0x06, 0x0A, 0x12, 0x1F, 0x02, 0x02], "5": [0x1F, 0x10, 0x1E, 0x01, 0x01, 0x11, 0x0E],
        "6": [0x06, 0x08, 0x10, 0x1E, 0x11, 0x11, 0x0E], "7": [0x1F, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08],
        "8": [0x0E, 0x11, 0x11, 0x0E, 0x11, 0x11, 0x0E], "9": [0x0E, 0x11, 0x11, 0x0F, 0x01, 0x02, 0x0C],
        "A": [0x0E, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11], "B": [0x1E, 0x11, 0x11, 0x1E, 0x11, 0x11, 0x1E],
        "C": [0x0E, 0x11, 0x10, 0x10, 0x10, 0x11, 0x0E], "D": [0x1C, 0x12, 0x11, 0x11, 0x11, 0x12, 0x1C],
        "E": [0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x1F], "F": [0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x10],
        "G": [0x0E, 0x11, 0x10, 0x17, 0x11, 0x11, 0x0F], "H": [0x11, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11],
        "I": [0x0E, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0E], "J": [0x07, 0x02, 0x02, 0x02, 0x02, 0x12, 0x0C],
        "K": [0x11, 0x12, 0x14, 0x18, 0x14, 0x12, 0x11], "L": [0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x1F],
        "M": [0x11, 0x1B, 0x15, 0x15, 0x11, 0x11, 0x11], "N": [0x11, 0x11, 0x19, 0x15, 0x13, 0x11, 0x11],
        "O": [0x0E, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E], "P": [0x1E, 0x11, 0x11, 0x1E, 0x10, 0x10, 0x10],
        "Q": [0x0E, 0x11, 0x11, 0x11, 0x15, 0x12, 0x0D], "R": [0x1E, 0x11, 0x11, 0x1E, 0x14, 0x12, 0x11],
        "S": [0x0F, 0x10, 0x10, 0x0E, 0x01, 0x01, 0x1E], "T": [0x1F, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04],
        "U": [0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E], "V": [0x11, 0x11, 0x11, 0x11, 0x11, 0x0A, 0x04],
        "W": [0x11, 0x11, 0x11, 0x15, 0x15, 0x15, 0x0A], "X": [0x11, 0x11, 0x0A, 0x04, 0x0A, 0x11, 0x11],
        "Y": [0x11, 0x11, 0x11, 0x0A, 0x04, 0x04, 0x04], "Z": [0x1F, 0x01, 0x02, 0x04, 0x08, 0x10, 0x1F],
        ".": [0, 0, 0, 0, 0, 0x0C, 0x0C], ",": [0, 0, 0, 0, 0x0C, 0x04, 0x08], ":": [0, 0x0C, 0x0C, 0, 0x0C, 0x0C, 0],
        "-": [0, 0, 0, 0x1F, 0, 0, 0], ">": [0x08, 0x04, 0x02, 0x01, 0x02, 0x04, 0x08],
        "<": [0x02, 0x04, 0x08, 0x10, 0x08, 0x04, 0x02], "(": [0x02, 0x04, 0x08, 0x08, 0x08, 0x04, 0x02],
        ")": [0x08, 0x04, 0x02, 0x02, 0x02, 0x04, 0x08], "/": [0, 0x01, 0x02, 0x04, 0x08, 0x10, 0],
        "%": [0x18, 0x19, 0x02, 0x04, 0x08, 0x13, 0x03], "=": [0, 0, 0x1F, 0, 0x1F, 0, 0],
        "+": [0, 0x04, 0x04, 0x1F, 0x04, 0x04, 0], "_": [0, 0, 0, 0, 0, 0, 0x1F], " ": [0, 0, 0, 0, 0, 0, 0],
        "?": [0x0E, 0x11, 0x01, 0x02, 0x04, 0, 0x04],
    ]
}
