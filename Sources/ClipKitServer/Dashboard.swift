import ClipKitAudit
import ClipKitCore
import ClipKitLedger
import Foundation
import Hummingbird

extension Routes {
    /// `GET /`: one page of what the ledger holds (recent clips with their verification and last frames,
    /// webhook deliveries, jobs by state), refreshing itself; a login form without a valid token.
    @Sendable func dashboard(_ request: Request, _ context: ServerContext) async throws -> Response {
        guard let secret = presentedToken(request, allowCookie: true) else { return html(loginPage(problem: nil)) }
        guard try await store.authenticate(secret) != nil else {
            return html(loginPage(problem: "That token is unknown or revoked."), status: .unauthorized)
        }
        let page = try await store.read { tx in
            var chains: [DashboardPage.Chain] = []
            for listed in try await tx.chains(limit: 10) {
                guard let chain = try await tx.chain(listed.id) else { continue }
                chains.append(.init(record: chain, tasks: try await tx.tasks(chain: chain.id, limit: 1000)))
            }
            return DashboardPage(clips: try await tx.clips(limit: 50), deliveries: try await tx.recentWebhookDeliveries(limit: 50),
                                 counts: try await tx.jobCounts(), budgets: try await tx.budgets(), totals: try await tx.totals(),
                                 tasks: try await tx.tasks(limit: 30), findings: try await tx.recentFindings(limit: 30), chains: chains)
        }
        return html(page.render())
    }

    /// `POST /login` (form `token=…`): sets the token as an HttpOnly, SameSite=Strict cookie and goes to `/`.
    @Sendable func login(_ request: Request, _ context: ServerContext) async throws -> Response {
        let form = String(buffer: try await request.body.collect(upTo: 16 << 10))
        var components = URLComponents()
        components.percentEncodedQuery = form.replacingOccurrences(of: "+", with: "%20")
        let token = components.queryItems?.first(where: { $0.name == "token" })?.value?.trimmingCharacters(in: .whitespaces) ?? ""
        guard !token.isEmpty, try await store.authenticate(token) != nil else {
            return html(loginPage(problem: "That token is unknown or revoked."), status: .unauthorized)
        }
        return Response(status: .seeOther, headers: [
            .location: "/", .setCookie: "\(tokenCookieName)=\(token); Path=/; HttpOnly; SameSite=Strict",
        ])
    }

    /// `POST /logout`: forgets the cookie.
    @Sendable func logout(_ request: Request, _ context: ServerContext) async throws -> Response {
        Response(status: .seeOther, headers: [
            .location: "/", .setCookie: "\(tokenCookieName)=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0",
        ])
    }

    private func html(_ page: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
                 body: ResponseBody(byteBuffer: ByteBuffer(string: page)))
    }

    private func loginPage(problem: String?) -> String {
        DashboardPage.frame(title: "ClipKit — sign in", refresh: false, body: """
            <h1>ClipKit</h1>
            \(problem.map { "<p class=\"bad\">\(escape($0))</p>" } ?? "")
            <form method="post" action="/login">
              <label>API token <input type="password" name="token" autocomplete="off" autofocus></label>
              <button type="submit">Sign in</button>
            </form>
            <p class="note">Make a token with <code>clipkit token create --name NAME</code>.</p>
            """)
    }
}

func escape(_ text: String) -> String { HTML.escape(text) }

/// The dashboard's one page, rendered on the server from ledger records.
struct DashboardPage {
    var clips: [ClipRecord]
    var deliveries: [WebhookDelivery]
    var counts: [JobCount]
    var budgets: [Budget]
    var totals: LedgerTotals
    var tasks: [ProviderTaskRecord]
    var findings: [StoredFinding]
    var chains: [Chain]

    /// A chain with every task tried for it.
    struct Chain {
        var record: ChainRecord
        var tasks: [ProviderTaskRecord]
    }

    static func frame(title: String, refresh: Bool, body: String) -> String {
        """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8">
        \(refresh ? #"<meta http-equiv="refresh" content="10">"# : "")
        <title>\(escape(title))</title>
        <style>
        body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222}
        table{border-collapse:collapse;margin:8px 0 24px}td,th{border-bottom:1px solid #ddd;padding:4px 10px;text-align:left;vertical-align:middle}
        th{background:#f4f4f4}.ok{color:#17702a}.bad{color:#b3261e}.note{color:#666}img{height:48px;display:block}
        .count{font-size:22px;font-weight:600;padding-right:4px}.state{margin-right:20px}img.sheet{height:120px}
        </style></head><body>
        \(body)
        </body></html>
        """
    }

    func render() -> String {
        let formatter = ISO8601DateFormatter()
        let time = { (date: Date?) in date.map { formatter.string(from: $0) } ?? "—" }
        var byState: [JobState: Int] = [:]
        for count in counts { byState[count.state, default: 0] += count.count }
        let jobs = JobState.allCases.map {
            "<span class=\"state\" id=\"jobs-\($0.rawValue)\"><span class=\"count\">\(byState[$0] ?? 0)</span>\($0.rawValue)</span>"
        }.joined()
        let clipRows = clips.map { clip -> String in
            let probe = clip.probe
            let video = probe["video"]
            let tier = probe["tier"]?.stringValue ?? "—"
            let size = video.flatMap { v in v["width"]?.stringValue.flatMap { w in v["height"]?.stringValue.map { "\(w)×\($0)" } } } ?? "—"
            let duration = video?["duration"]?.stringValue.flatMap(Double.init).map { String(format: "%.3f s", $0) } ?? "—"
            let frameCount = video?["frameCount"]?.stringValue ?? "—"
            let passed = clip.verification?["passed"].flatMap { if case .bool(let b) = $0 { b } else { nil } }
            let failures = clip.verification?["failures"]?.arrayValue?.compactMap { $0["message"]?.stringValue } ?? []
            let verdict = switch passed {
            case true?: "<span class=\"ok\">as billed</span>"
            case false?: "<span class=\"bad\">\(escape(failures.joined(separator: "; ")))</span>"
            case nil: "—"
            }
            let thumbs = ["first", "last"].filter { clip.frames[$0] != nil }.map {
                "<a href=\"/v1/clips/\(clip.id)/frames/\($0).png\"><img alt=\"\($0) frame\" src=\"/v1/clips/\(clip.id)/frames/\($0).png\"></a>"
            }.joined(separator: "</td><td>")
            return """
                <tr class="clip" id="\(clip.id)"><td><a href="/v1/clips/\(clip.id)">\(clip.id)</a></td><td>\(escape(tier))</td>\
                <td>\(escape(size))</td><td>\(escape(duration))</td><td>\(escape(frameCount))</td><td>\(verdict)</td>\
                <td>\(thumbs)</td><td>\(time(clip.createdAt))</td></tr>
                """
        }.joined(separator: "\n")
        let deliveryRows = deliveries.map { delivery in
            """
            <tr class="delivery"><td>\(escape(delivery.provider))</td><td>\(escape(delivery.webhookID))</td>\
            <td>\(escape(delivery.providerTaskID ?? "—"))</td><td>\(delivery.taskID.map(escape) ?? "<span class=\"bad\">unknown task</span>")</td>\
            <td>\(time(delivery.receivedAt))</td><td>\(time(delivery.processedAt))</td></tr>
            """
        }.joined(separator: "\n")
        return Self.frame(title: "ClipKit", refresh: true, body: """
            <form method="post" action="/logout" style="float:right"><button type="submit">Sign out</button></form>
            <h1>ClipKit</h1>
            <h2>Jobs</h2><p>\(jobs)</p>
            \(money(time: time))
            \(chainSection(time: time))
            <h2>Clips (\(clips.count) most recent)</h2>
            <table><tr><th>clip</th><th>tier</th><th>size</th><th>duration</th><th>frames</th><th>verification</th>\
            <th>first</th><th>last</th><th>stored</th></tr>
            \(clipRows.isEmpty ? "<tr><td colspan=\"9\" class=\"note\">No clips yet: POST /v1/clips.</td></tr>" : clipRows)
            </table>
            <h2>Webhook deliveries</h2>
            <table><tr><th>provider</th><th>webhook id</th><th>provider task</th><th>ledger task</th><th>received</th><th>processed</th></tr>
            \(deliveryRows.isEmpty ? "<tr><td colspan=\"6\" class=\"note\">None yet.</td></tr>" : deliveryRows)
            </table>
            <p class="note">Refreshes every 10 s. API: <a href="/openapi.json">/openapi.json</a>.</p>
            """)
    }

    /// Chains: progress by segment, what their tasks were billed (rejected attempts too), the budget left,
    /// and the joined video with its seams' contact sheet.
    func chainSection(time: (Date?) -> String) -> String {
        let budgetsByName = Dictionary(budgets.map { ($0.name, $0) }) { first, _ in first }
        let rows = chains.map { chain -> String in
            let record = chain.record
            let accepted = record.segments.filter { $0.state == "accepted" }.count
            let billed = Money.totals(chain.tasks.compactMap(\.billed)).map(\.description).joined(separator: ", ")
            let left = record.budget.flatMap { budgetsByName[$0] }.map { "\($0.left) of \($0.limit)" } ?? "—"
            let state = record.state == "failed"
                ? "<span class=\"bad\">failed: \(escape(record.report?["error"]?.stringValue ?? ""))</span>" : escape(record.state)
            let joined = record.state == "joined"
                ? "<a href=\"/v1/chains/\(record.id)/video.mp4\">video</a></td><td><a href=\"/v1/chains/\(record.id)/seams.png\">"
                    + "<img class=\"sheet\" alt=\"seams\" src=\"/v1/chains/\(record.id)/seams.png\"></a>"
                : "—</td><td>—"
            return "<tr class=\"chain\" id=\"\(record.id)\"><td><a href=\"/v1/chains/\(record.id)\">\(record.id)</a></td><td>\(state)</td>"
                + "<td>\(accepted)/\(record.segments.count) segments, \(chain.tasks.count) tasks</td><td>\(billed.isEmpty ? "—" : billed)</td>"
                + "<td>\(escape(left))</td><td>\(joined)</td><td>\(time(record.createdAt))</td></tr>"
        }.joined(separator: "\n")
        return """
            <h2>Chains (\(chains.count) most recent)</h2>
            <table><tr><th>chain</th><th>state</th><th>progress</th><th>billed</th><th>budget left</th><th>joined</th><th>seams</th>\
            <th>asked</th></tr>
            \(rows.isEmpty ? "<tr><td colspan=\"8\" class=\"note\">No chains yet: POST /v1/chains.</td></tr>" : rows)
            </table>
            """
    }

    /// Money: what was billed and disputed by currency, the budgets, recent tasks with their bills, and
    /// the newest audit findings with the amounts they dispute.
    func money(time: (Date?) -> String) -> String {
        let currencies = Set(totals.billed.keys).union(totals.disputed.keys).sorted()
        let totalRows = currencies.map { currency in
            let billed = Money(totals.billed[currency] ?? 0, currency), disputed = Money(totals.disputed[currency] ?? 0, currency)
            return "<tr class=\"total\" id=\"total-\(escape(currency))\"><td>\(escape(currency))</td><td>\(billed.amountText)</td>"
                + "<td class=\"\(disputed.isPositive ? "bad" : "ok")\">\(disputed.amountText)</td></tr>"
        }.joined(separator: "\n")
        let budgetRows = budgets.map { budget in
            "<tr class=\"budget\" id=\"budget-\(escape(budget.name))\"><td>\(escape(budget.name))</td><td>\(budget.limit)</td>"
                + "<td>\(budget.reserved)</td><td>\(budget.spent)</td><td class=\"\(budget.left.isPositive ? "ok" : "bad")\">\(budget.left)</td></tr>"
        }.joined(separator: "\n")
        let taskRows = tasks.map { task in
            let clip = task.clipID.map { "<a href=\"/v1/clips/\($0)\">\($0)</a>" } ?? "—"
            let error = task.errorCode.map { " <span class=\"bad\">\(escape($0))</span>" } ?? ""
            return "<tr class=\"task\" id=\"\(task.id)\"><td><a href=\"/v1/tasks/\(task.id)\">\(task.id)</a></td>"
                + "<td>\(escape(task.provider)) \(escape(task.model))</td><td>\(escape(task.state))\(error)</td>"
                + "<td>\(task.billed.map { escape($0.description) } ?? "—")</td><td>\(clip)</td><td>\(time(task.createdAt))</td></tr>"
        }.joined(separator: "\n")
        let findingRows = findings.map { stored in
            let finding = stored.finding
            return "<tr class=\"finding\"><td class=\"\(finding.severity == .error ? "bad" : "note")\">\(finding.code.rawValue)</td>"
                + "<td>\(escape(finding.taskID ?? "—"))</td><td>\(finding.overBilled.map { escape($0.description) } ?? "—")</td>"
                + "<td>\(escape(finding.message))</td><td>\(escape(stored.batch))</td></tr>"
        }.joined(separator: "\n")
        return """
            <h2>Money</h2>
            <table><tr><th>currency</th><th>billed (verified tasks)</th><th>disputed (audit findings)</th></tr>
            \(totalRows.isEmpty ? "<tr><td colspan=\"3\" class=\"note\">Nothing billed yet.</td></tr>" : totalRows)
            </table>
            <table><tr><th>budget</th><th>limit</th><th>reserved</th><th>spent</th><th>left</th></tr>
            \(budgetRows.isEmpty ? "<tr><td colspan=\"5\" class=\"note\">No budgets.</td></tr>" : budgetRows)
            </table>
            <h2>Tasks (\(tasks.count) most recent)</h2>
            <table><tr><th>task</th><th>model</th><th>state</th><th>billed</th><th>clip</th><th>asked</th></tr>
            \(taskRows.isEmpty ? "<tr><td colspan=\"6\" class=\"note\">No tasks yet: POST /v1/tasks.</td></tr>" : taskRows)
            </table>
            <h2>Audit findings (\(findings.count) most recent)</h2>
            <table><tr><th>finding</th><th>task</th><th>over-billed</th><th>what</th><th>from</th></tr>
            \(findingRows.isEmpty ? "<tr><td colspan=\"5\" class=\"note\">None.</td></tr>" : findingRows)
            </table>
            """
    }
}
