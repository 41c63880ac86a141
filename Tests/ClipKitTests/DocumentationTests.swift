import Foundation
import Testing

/// The code in the README and the DocC articles is the code these tests run: every ```swift block there
/// must be, character for character, a snippet marked in this folder (`// snippet NAME` … `// end snippet`),
/// and every snippet must be shown somewhere, so neither side can drift from the other.
@Suite("documentation")
struct DocumentationTests {
    /// Snippets by name, from the Swift files of this test target, dedented.
    static func snippets() throws -> [String: String] {
        let folder = Repository.path("Tests/ClipKitTests")
        var found: [String: String] = [:]
        for file in try FileManager.default.contentsOfDirectory(atPath: folder) where file.hasSuffix(".swift") {
            let lines = try String(contentsOfFile: folder + "/" + file, encoding: .utf8).components(separatedBy: "\n")
            var name: String?, body: [String] = []
            for line in lines {
                let trimmed = line.trimmingCharacters(in: .whitespaces)
                if trimmed.hasPrefix("// snippet ") {
                    name = String(trimmed.dropFirst("// snippet ".count))
                    body = []
                } else if trimmed == "// end snippet", let current = name {
                    found[current] = dedent(body)
                    name = nil
                } else if name != nil {
                    body.append(line)
                }
            }
        }
        return found
    }

    static func dedent(_ lines: [String]) -> String {
        let indent = lines.filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
            .map { $0.prefix { $0 == " " }.count }.min() ?? 0
        return lines.map { String($0.dropFirst(min(indent, $0.prefix { $0 == " " }.count))) }.joined(separator: "\n")
    }

    /// The ```swift blocks of a Markdown file.
    static func swiftBlocks(in path: String) throws -> [String] {
        var blocks: [String] = [], current: [String]?
        for line in try String(contentsOfFile: path, encoding: .utf8).components(separatedBy: "\n") {
            if current == nil, line.trimmingCharacters(in: .whitespaces) == "```swift" {
                current = []
            } else if current != nil, line.trimmingCharacters(in: .whitespaces) == "```" {
                blocks.append(current!.joined(separator: "\n"))
                current = nil
            } else {
                current?.append(line)
            }
        }
        return blocks
    }

    static let documents: [String] = {
        let catalog = "Sources/ClipKit/ClipKit.docc"
        let articles = (try? FileManager.default.contentsOfDirectory(atPath: Repository.path(catalog))) ?? []
        return ["README.md"] + articles.filter { $0.hasSuffix(".md") }.sorted().map { "\(catalog)/\($0)" }
    }()

    @Test("every Swift block in the README and the DocC articles is a snippet the tests run")
    func blocksAreSnippets() throws {
        let snippets = Set(try Self.snippets().values)
        #expect(Self.documents.count == 5, "README, the landing page and three articles")
        for document in Self.documents {
            let blocks = try Self.swiftBlocks(in: Repository.path(document))
            #expect(!blocks.isEmpty, "\(document) shows code")
            for block in blocks {
                #expect(snippets.contains(block), "\(document): this block is not a snippet in Tests/ClipKitTests:\n\(block)")
            }
        }
    }

    @Test("every snippet is shown in the README or an article")
    func snippetsAreShown() throws {
        let shown = Set(try Self.documents.flatMap { try Self.swiftBlocks(in: Repository.path($0)) })
        for (name, snippet) in try Self.snippets() {
            #expect(shown.contains(snippet), "snippet \(name) is in no document")
        }
    }
}
