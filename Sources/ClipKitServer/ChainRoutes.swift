import ClipKitService
import Foundation
import Hummingbird

struct ChainList: Encodable {
    var chains: [ChainSummary]
}

extension Routes {
    /// `POST /v1/chains`: a storyboard (`ChainRequest` as JSON) recorded and queued at once: 202 with the
    /// chain, whose segments the job workers then generate one after the other, each from the previous
    /// clip's exact last frame, and join. `Idempotency-Key` makes a retried request answer the first chain.
    @Sendable func createChain(_ request: Request, _ context: ServerContext) async throws -> Response {
        let tasks = try requireTasks()
        let key = try idempotencyKey(request)
        let body = try await decodedBody(ChainRequest.self, of: request, context,
                                         what: #"a chain request ({"storyboard": {"segments": […]}, "provider", "budget"})"#)
        return try await refusingAsAPIErrors {
            jsonResponse(try await tasks.startChain(body, idempotencyKey: key), status: .accepted)
        }
    }

    /// `GET /v1/chains/{id}`: the chain with its segments, their tasks, the budget and, once joined, the
    /// video's and the contact sheet's URLs and the join's report.
    @Sendable func getChain(_ request: Request, _ context: ServerContext) async throws -> Response {
        jsonResponse(try await requiredChain(context))
    }

    /// `GET /v1/chains?limit=`: newest first.
    @Sendable func listChains(_ request: Request, _ context: ServerContext) async throws -> Response {
        jsonResponse(ChainList(chains: try await requireTasks().chains(limit: try listLimit(request))))
    }

    /// `GET /v1/chains/{id}/video.mp4` and `…/seams.png`: the joined video and its contact sheet.
    @Sendable func getChainVideo(_ request: Request, _ context: ServerContext) async throws -> Response {
        try await chainFile(context, "chains/{id}.mp4", type: "video/mp4")
    }

    @Sendable func getChainSeams(_ request: Request, _ context: ServerContext) async throws -> Response {
        try await chainFile(context, "chains/{id}-seams.png", type: "image/png")
    }

    /// A file the join wrote, by its path in the data directory (`{id}` the chain's id).
    private func chainFile(_ context: ServerContext, _ path: String, type: String) async throws -> Response {
        let chain = try await requiredChain(context)
        guard chain.state == "joined" else { throw APIError.notFound("chain \(chain.id) is \(chain.state), not joined yet") }
        let relative = path.replacingOccurrences(of: "{id}", with: chain.id)
        guard FileManager.default.fileExists(atPath: data.absolute(relative)) else {
            throw APIError.notFound("the file \(relative) of chain \(chain.id) is missing from the data directory")
        }
        // Streamed from the file in chunks: a long chain's video is not held in memory.
        return Response(status: .ok, headers: [.contentType: type, .cacheControl: "private, max-age=31536000, immutable"],
                        body: try await FileIO().loadFile(path: data.absolute(relative), context: context))
    }

    private func requiredChain(_ context: ServerContext) async throws -> ChainSummary {
        let id = try context.parameters.require("id")
        guard let chain = try await requireTasks().chain(id: id) else { throw APIError.notFound("no chain \(id)") }
        return chain
    }
}
