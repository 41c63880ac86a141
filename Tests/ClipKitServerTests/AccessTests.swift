import ClipKitAudit
import ClipKitLedger
import ClipKitTestSupport
import Foundation
import NIOHTTP1
import Testing

@testable import ClipKitServer

/// A request for a route pattern, with its parameters filled in.
func concrete(_ route: String) -> (method: HTTPMethod, path: String) {
    let parts = route.split(separator: " ", maxSplits: 1)
    let path = String(parts[1]).replacingOccurrences(of: "{id}", with: "clip_x").replacingOccurrences(of: "{frame}", with: "last.png")
    return (HTTPMethod(rawValue: String(parts[0])), path)
}

@Suite("auth, errors, health and the OpenAPI document")
struct AccessTests {
    @Test("every /v1 route but the webhook is 401 without a token, with a wrong one and with a revoked one",
          arguments: LedgerBackend.allCases)
    func everyRouteNeedsAToken(_ backend: LedgerBackend) async throws {
        try await TestServer.with(backend) { server in
            let guarded = server.server.routes.filter { $0.contains(" /v1/") && !$0.hasSuffix("/v1/webhooks/wavespeed") }
            #expect(guarded.count >= 4)
            let revoked = try await server.store.transaction { try await $0.createToken(name: "old") }.secret
            #expect(try await server.store.transaction { try await $0.revokeToken("old") })
            for route in guarded {
                let (method, path) = concrete(route)
                for token in [String?.none, "ck_wrong", revoked] {
                    // nil: no Authorization header at all.
                    let answer = try await server.send(method, path, headers: [("Content-Type", "video/mp4")], body: Data("x".utf8),
                                                       token: token.map { .some($0) } ?? .none)
                    #expect(answer.status == 401, "\(route) with \(token == nil ? "no token" : "a bad token"): \(answer.status)")
                    #expect(answer.errorCode == "unauthorized", "\(route): \(answer.text)")
                    #expect(!answer.text.contains(revoked))
                }
            }
            // A malformed header is no token either.
            let basic = try await server.send(.GET, "/v1/jobs", headers: [("Authorization", "Basic \(server.token)")], token: .none)
            #expect(basic.status == 401)
            #expect(try await server.send(.GET, "/v1/jobs").status == 200)
            #expect(try await server.clipCount() == 0)
        }
    }

    @Test("errors have one shape: unknown routes 404, malformed JSON 400, wrong content type 415", arguments: LedgerBackend.allCases)
    func errorShape(_ backend: LedgerBackend) async throws {
        try await TestServer.with(backend) { server in
            let unknown = try await server.send(.GET, "/v1/nothing-here")
            #expect(unknown.status == 404)
            #expect(unknown.errorCode == "notFound")
            #expect(try await server.anonymous(.GET, "/nowhere").errorCode == "notFound")
            let malformed = try await server.send(.POST, "/v1/clips", headers: [("Content-Type", "application/json")], body: Data("{\"url\": ".utf8))
            #expect(malformed.status == 400)
            #expect(malformed.errorCode == "badRequest")
            let noURL = try await server.send(.POST, "/v1/clips", headers: [("Content-Type", "application/json")], body: Data("{}".utf8))
            #expect(noURL.status == 400)
            let text = try await server.send(.POST, "/v1/clips", headers: [("Content-Type", "text/plain")], body: Data("hi".utf8))
            #expect(text.status == 415)
            #expect(text.errorCode == "unsupportedMediaType")
            let badState = try await server.send(.GET, "/v1/jobs?state=sleeping")
            #expect(badState.status == 400)
            #expect(try await server.anonymous(.GET, "/healthz").status == 200)
            let ready = try await server.anonymous(.GET, "/readyz")
            #expect(ready.status == 200)
            #expect(ready.json["database"] as? String == backend.rawValue)
        }
    }

    @Test("readyz answers 503 unavailable once the ledger is gone; healthz still 200")
    func readyWithoutLedger() async throws {
        try await TestServer.with(.sqlite) { server in
            try await server.store.close()
            let ready = try await server.anonymous(.GET, "/readyz")
            #expect(ready.status == 503)
            #expect(ready.errorCode == "unavailable")
            #expect(try await server.anonymous(.GET, "/healthz").status == 200)
        }
    }

    @Test("the OpenAPI document is 3.1, is served, and describes every route the router has")
    func openAPICoversRoutes() async throws {
        try await TestServer.with(.sqlite) { server in
            let served = try await server.anonymous(.GET, "/openapi.json")
            #expect(served.status == 200)
            let document = served.json
            #expect(document["openapi"] as? String == "3.1.0")
            let paths = try #require(document["paths"] as? [String: [String: Any]])
            for route in server.server.routes {
                let parts = route.split(separator: " ", maxSplits: 1)
                let operation = paths[String(parts[1])]?[parts[0].lowercased()]
                #expect(operation != nil, "\(route) is not in openapi.json")
            }
            let described = paths.flatMap { path, methods in methods.keys.map { "\($0.uppercased()) \(path)" } }
            #expect(Set(described) == Set(server.server.routes), "openapi.json describes routes the server does not have")
        }
    }

    @Test("the dashboard asks for a token, then lists clips, deliveries and jobs; the cookie is HttpOnly")
    func dashboard() async throws {
        try await TestServer.with(.sqlite) { server in
            let clip = try await server.upload(Samples.path(Samples.t2v480p), query: "?tier=480P")
            let id = try #require(clip.json["id"] as? String)
            let login = try await server.anonymous(.GET, "/")
            #expect(login.status == 200)
            #expect(login.text.contains("name=\"token\""))
            #expect(!login.text.contains(id))
            let refused = try await server.anonymous(.POST, "/login", headers: [("Content-Type", "application/x-www-form-urlencoded")],
                                                     body: Data("token=ck_wrong".utf8))
            #expect(refused.status == 401)
            let signedIn = try await server.anonymous(.POST, "/login", headers: [("Content-Type", "application/x-www-form-urlencoded")],
                                                      body: Data("token=\(server.token)".utf8))
            #expect(signedIn.status == 303)
            let cookie = try #require(signedIn.headers.first(name: "set-cookie"))
            #expect(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"))
            let pair = String(cookie.split(separator: ";")[0])
            let page = try await server.anonymous(.GET, "/", headers: [("Cookie", pair)])
            #expect(page.status == 200)
            #expect(page.text.contains(id))
            #expect(page.text.contains("http-equiv=\"refresh\""))
            #expect(page.text.contains("480P"))
            #expect(page.text.contains("/v1/clips/\(id)/frames/last.png"))
            #expect(!page.text.contains(server.token))
            // The cookie opens GET routes (the page's images), never a write.
            #expect(try await server.anonymous(.GET, "/v1/clips/\(id)/frames/last.png", headers: [("Cookie", pair)]).status == 200)
            let post = try await server.anonymous(.POST, "/v1/clips", headers: [("Cookie", pair), ("Content-Type", "video/mp4")],
                                                  body: try Data(contentsOf: URL(fileURLWithPath: Samples.path(Samples.t2v480p))))
            #expect(post.status == 401)
        }
    }

    @Test("the dashboard's money: billed and disputed by currency, budgets, tasks with their bills, findings; as headless Chromium renders it",
          arguments: LedgerBackend.allCases)
    func dashboardMoney(_ backend: LedgerBackend) async throws {
        let chromium = try #require(["/usr/bin/chromium", "/usr/bin/chromium-browser"].first { FileManager.default.isExecutableFile(atPath: $0) },
                                    "chromium is not installed: apt-get install -y chromium")
        try await TestServer.with(backend) { server in
            var chainID = ""
            try await server.store.transaction { tx in
                _ = try await tx.setBudget("account", limit: Money(Decimal(string: "20.00")!, "CNY"))
                var task = try await tx.insertTask(ProviderTaskRecord(requestKey: "request:1", provider: "dashscope", model: "wan2.2-t2v-plus")).task
                task.state = "succeeded"
                task.billed = Money(Decimal(string: "1.40")!, "CNY")
                try await tx.updateTask(task)
                _ = try await tx.reserve(Money(Decimal(string: "1.40")!, "CNY"), on: ["account"], reference: task.id)
                _ = try await tx.settle(reference: task.id, spent: Money(Decimal(string: "1.40")!, "CNY"))
                // A joined chain of one segment, billed 0.50 of its 2.00 budget.
                var chain = ChainRecord(provider: "dashscope", storyboard: .object([:]), state: "running", segmentCount: 1)
                chain.budget = "chain:" + chain.id
                _ = try await tx.setBudget("chain:" + chain.id, limit: Money(2, "CNY"))
                try await tx.insertChain(chain)
                var segment = try await tx.insertTask(ProviderTaskRecord(requestKey: "chain:1", provider: "dashscope", model: "wan2.2-i2v-flash",
                                                                         chainID: chain.id, segment: 0)).task
                segment.billed = Money(Decimal(string: "0.50")!, "CNY")
                try await tx.updateTask(segment)
                _ = try await tx.reserve(Money(Decimal(string: "0.50")!, "CNY"), on: [chain.budget!], reference: segment.id)
                _ = try await tx.settle(reference: segment.id, spent: Money(Decimal(string: "0.50")!, "CNY"))
                try await tx.updateSegment(ChainSegmentRecord(position: 0, state: "accepted"), chainID: chain.id)
                try await tx.updateChain(chain.id, state: "joined", outputPath: "chains/\(chain.id).mp4")
                chainID = chain.id
                try await tx.recordFindings([Finding(code: .duplicateBilling, severity: .error, taskID: "dup-1", message: "billed twice <b>",
                                                     overBilled: Money(Decimal(string: "0.70")!, "CNY"))], batch: "bill:test")
            }
            let page = try await server.send(.GET, "/")
            #expect(page.status == 200)
            let folder = NSTemporaryDirectory() + "clipkit-dashboard-" + UUID().uuidString.prefix(8)
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: folder) }
            try page.body.write(to: URL(fileURLWithPath: folder + "/index.html"))
            let dom = try await offPool {
                try Tool.run(chromium, ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                                        "--user-data-dir=\(folder)/profile", "--dump-dom", "file://\(folder)/index.html"]).text
            }
            // Billed: the task's 1.40 and the chain segment's 0.50.
            let rows = ["<tr class=\"total\" id=\"total-CNY\"><td>CNY</td><td>1.90</td><td class=\"bad\">0.70</td></tr>",
                        "<tr class=\"budget\" id=\"budget-account\"><td>account</td><td>20.00 CNY</td><td>0.00 CNY</td><td>1.40 CNY</td><td class=\"ok\">18.60 CNY</td></tr>"]
            for row in rows { #expect(dom.contains(row), "\(row) in:\n\(dom)") }
            #expect(dom.contains("duplicateBilling") && dom.contains("0.70 CNY") && dom.contains("billed twice &lt;b&gt;"), "\(dom)")
            #expect(dom.contains("wan2.2-t2v-plus") && dom.contains("1.40 CNY"))
            let chainRow = "<tr class=\"chain\" id=\"\(chainID)\"><td><a href=\"/v1/chains/\(chainID)\">\(chainID)</a></td><td>joined</td>"
                + "<td>1/1 segments, 1 tasks</td><td>0.50 CNY</td><td>1.50 CNY of 2.00 CNY</td>"
            #expect(dom.contains(chainRow), "\(chainRow) in:\n\(dom)")
            #expect(dom.contains("<img class=\"sheet\" alt=\"seams\" src=\"/v1/chains/\(chainID)/seams.png\">"))
        }
    }
}
