/// The API's contract, served at `GET /openapi.json`. A test checks that every route the router has is
/// described here; schemathesis (scripts/schemathesis.sh) checks the answers against it.
enum OpenAPIDocument {
    static let json = #"""
    {
      "openapi": "3.1.0",
      "info": {
        "title": "ClipKit",
        "version": "1.0.0",
        "description": "ClipKit as a service: clips probed, verified and framed by the same library the clipkit CLI uses, a ledger of what was seen, and provider webhooks. Every /v1 route except the WaveSpeed webhook needs Authorization: Bearer TOKEN (clipkit token create). Errors are {\"error\": {\"code\", \"message\"}}."
      },
      "servers": [{"url": "http://127.0.0.1:8080"}],
      "security": [{"bearer": []}],
      "paths": {
        "/healthz": {
          "get": {
            "summary": "The process answers.", "security": [], "operationId": "health",
            "responses": {"200": {"description": "Alive.", "content": {"application/json": {"schema": {"type": "object", "properties": {"status": {"const": "ok"}}, "required": ["status"]}}}}}
          }
        },
        "/readyz": {
          "get": {
            "summary": "The ledger answers and holds this build's schema.", "security": [], "operationId": "ready",
            "responses": {
              "200": {"description": "Ready.", "content": {"application/json": {"schema": {"type": "object", "properties": {"status": {"const": "ready"}, "database": {"enum": ["sqlite", "postgres"]}, "schemaVersion": {"type": "integer"}}, "required": ["status", "database", "schemaVersion"]}}}},
              "503": {"$ref": "#/components/responses/Error"}
            }
          }
        },
        "/metrics": {
          "get": {
            "summary": "Prometheus text: webhooks by result, job durations on this node, clip bytes received; jobs by kind and state, money billed and disputed by currency, clips stored, from the ledger. No bearer token.",
            "operationId": "metrics", "security": [],
            "responses": {"200": {"description": "Prometheus exposition format 0.0.4.", "content": {"text/plain": {"schema": {"type": "string"}}}}}
          }
        },
        "/openapi.json": {
          "get": {
            "summary": "This document.", "security": [], "operationId": "openapi",
            "responses": {"200": {"description": "The OpenAPI 3.1 document.", "content": {"application/json": {"schema": {"type": "object"}}}}}
          }
        },
        "/": {
          "get": {
            "summary": "The dashboard (a login form without a valid token cookie or bearer header).", "security": [], "operationId": "dashboard",
            "responses": {
              "200": {"description": "The page.", "content": {"text/html": {"schema": {"type": "string"}}}},
              "401": {"description": "The token presented is unknown or revoked: the login form again.", "content": {"text/html": {"schema": {"type": "string"}}}}
            }
          }
        },
        "/login": {
          "post": {
            "summary": "Signs in to the dashboard: sets the token as an HttpOnly, SameSite=Strict cookie.", "security": [], "operationId": "login",
            "requestBody": {"required": true, "content": {"application/x-www-form-urlencoded": {"schema": {"type": "object", "properties": {"token": {"type": "string"}}, "required": ["token"]}}}},
            "responses": {
              "303": {"description": "Signed in; go to /."},
              "401": {"description": "Unknown or revoked token: the login form again.", "content": {"text/html": {"schema": {"type": "string"}}}}
            }
          }
        },
        "/logout": {
          "post": {
            "summary": "Signs out of the dashboard.", "security": [], "operationId": "logout",
            "responses": {"303": {"description": "The cookie is cleared; go to /."}}
          }
        },
        "/v1/clips": {
          "post": {
            "summary": "Stores a clip: probes it, verifies it against requirements, extracts its first and last frames.",
            "description": "Send the clip's bytes (Content-Type video/mp4, or any video/* or application/octet-stream) with requirements as query parameters, or JSON {\"url\", \"requirements\"}. A file that is not a playable clip (empty, an expired link's XML page, truncated) is 422 with the probe's code, and nothing is stored. With Idempotency-Key, the same key and request again answers the first clip (200); the same key with another request is 409.",
            "operationId": "createClip",
            "parameters": [
              {"name": "Idempotency-Key", "in": "header", "required": false, "schema": {"type": "string", "maxLength": 255}},
              {"$ref": "#/components/parameters/tier"}, {"$ref": "#/components/parameters/duration"}, {"$ref": "#/components/parameters/fps"},
              {"$ref": "#/components/parameters/audio"}, {"$ref": "#/components/parameters/toleranceFrames"}
            ],
            "requestBody": {"$ref": "#/components/requestBodies/Clip"},
            "responses": {
              "201": {"description": "Stored.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Clip"}}}},
              "200": {"description": "The clip an earlier request with this Idempotency-Key stored.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Clip"}}}},
              "400": {"$ref": "#/components/responses/Error"},
              "401": {"$ref": "#/components/responses/Error"},
              "409": {"$ref": "#/components/responses/Error"},
              "413": {"$ref": "#/components/responses/Error"},
              "415": {"$ref": "#/components/responses/Error"},
              "422": {"$ref": "#/components/responses/Error"}
            }
          }
        },
        "/v1/clips/{id}": {
          "get": {
            "summary": "One clip.", "operationId": "getClip",
            "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
            "responses": {
              "200": {"description": "The clip.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Clip"}}}},
              "401": {"$ref": "#/components/responses/Error"},
              "404": {"$ref": "#/components/responses/Error"}
            }
          }
        },
        "/v1/clips/{id}/frames/{frame}": {
          "get": {
            "summary": "A frame of the clip as PNG: first.png, last.png (made with the clip) or N.png (the Nth displayed frame from 0, made on first request).",
            "operationId": "getFrame",
            "parameters": [
              {"name": "id", "in": "path", "required": true, "schema": {"type": "string"}},
              {"name": "frame", "in": "path", "required": true, "schema": {"type": "string", "pattern": "^(first|last|[0-9]+)\\.png$"}}
            ],
            "responses": {
              "200": {"description": "The frame.", "content": {"image/png": {"schema": {"type": "string", "format": "binary"}}}},
              "401": {"$ref": "#/components/responses/Error"},
              "404": {"$ref": "#/components/responses/Error"}
            }
          }
        },
        "/v1/probe": {
          "post": {
            "summary": "Probes and verifies a clip, storing nothing (clipkit verify over HTTP).",
            "description": "The same bodies as POST /v1/clips: the clip's bytes with requirements as query parameters, or JSON {\"url\", \"requirements\"}. A URL is probed where it lies: Range requests for the head and the index, as clipkit probe URL does (a full download only when the server ignores Range). The probe's path is \"upload\" or the URL without its query. A file that is not a playable clip is 422 with the probe's code.",
            "operationId": "probeClip",
            "parameters": [
              {"$ref": "#/components/parameters/tier"}, {"$ref": "#/components/parameters/duration"}, {"$ref": "#/components/parameters/fps"},
              {"$ref": "#/components/parameters/audio"}, {"$ref": "#/components/parameters/toleranceFrames"}
            ],
            "requestBody": {"$ref": "#/components/requestBodies/Clip"},
            "responses": {
              "200": {"description": "The probe and the verification.", "content": {"application/json": {"schema": {
                "type": "object", "required": ["probe", "verification"],
                "properties": {
                  "probe": {"type": "object", "description": "Exactly what clipkit probe --format json prints, with the path as above."},
                  "verification": {"$ref": "#/components/schemas/Verification"}}}}}},
              "400": {"$ref": "#/components/responses/Error"},
              "401": {"$ref": "#/components/responses/Error"},
              "413": {"$ref": "#/components/responses/Error"},
              "415": {"$ref": "#/components/responses/Error"},
              "422": {"$ref": "#/components/responses/Error"}
            }
          }
        },
        "/v1/tasks": {
          "post": {
            "summary": "Generate a clip: recorded and queued at once (202); the job worker submits it once, polls, downloads, verifies and frames it.",
            "operationId": "createTask",
            "parameters": [{"name": "Idempotency-Key", "in": "header", "required": false, "schema": {"type": "string", "maxLength": 255}}],
            "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/TaskRequest"}}}},
            "responses": {
              "202": {"description": "The task, queued (or the one an earlier request with this Idempotency-Key made).", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Task"}}}},
              "400": {"$ref": "#/components/responses/Error"},
              "401": {"$ref": "#/components/responses/Error"},
              "402": {"$ref": "#/components/responses/Error"},
              "409": {"$ref": "#/components/responses/Error"},
              "422": {"$ref": "#/components/responses/Error"},
              "503": {"$ref": "#/components/responses/Error"}
            }
          },
          "get": {
            "summary": "Tasks, newest first.", "operationId": "listTasks",
            "parameters": [
              {"name": "status", "in": "query", "required": false, "schema": {"type": "string"}},
              {"name": "since", "in": "query", "required": false, "schema": {"type": "string", "format": "date-time"}},
              {"name": "limit", "in": "query", "required": false, "schema": {"type": "integer", "minimum": 1, "maximum": 1000}}
            ],
            "responses": {
              "200": {"description": "The tasks.", "content": {"application/json": {"schema": {"type": "object", "properties": {"tasks": {"type": "array", "items": {"$ref": "#/components/schemas/Task"}}}, "required": ["tasks"]}}}},
              "400": {"$ref": "#/components/responses/Error"},
              "401": {"$ref": "#/components/responses/Error"},
              "503": {"$ref": "#/components/responses/Error"}
            }
          }
        },
        "/v1/tasks/{id}": {
          "get": {
            "summary": "One task: its status history, usage as billed, the bill, the clip.", "operationId": "getTask",
            "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
            "responses": {
              "200": {"description": "The task.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Task"}}}},
              "401": {"$ref": "#/components/responses/Error"},
              "404": {"$ref": "#/components/responses/Error"},
              "503": {"$ref": "#/components/responses/Error"}
            }
          }
        },
        "/v1/chains": {
          "post": {
            "summary": "Generate a long video from a storyboard: recorded and queued at once (202); each segment is a task generated from the previous clip's exact last frame, verified, then all are joined without the repeated seam frame.",
            "operationId": "createChain",
            "parameters": [{"name": "Idempotency-Key", "in": "header", "required": false, "schema": {"type": "string", "maxLength": 255}}],
            "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ChainRequest"}}}},
            "responses": {
              "202": {"description": "The chain, running (or the one an earlier request with this Idempotency-Key made).", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Chain"}}}},
              "400": {"$ref": "#/components/responses/Error"},
              "401": {"$ref": "#/components/responses/Error"},
              "402": {"$ref": "#/components/responses/Error"},
              "409": {"$ref": "#/components/responses/Error"},
              "422": {"$ref": "#/components/responses/Error"},
              "503": {"$ref": "#/components/responses/Error"}
            }
          },
          "get": {
            "summary": "Chains, newest first.", "operationId": "listChains",
            "parameters": [{"name": "limit", "in": "query", "required": false, "schema": {"type": "integer", "minimum": 1, "maximum": 1000}}],
            "responses": {
              "200": {"description": "The chains.", "content": {"application/json": {"schema": {"type": "object", "properties": {"chains": {"type": "array", "items": {"$ref": "#/components/schemas/Chain"}}}, "required": ["chains"]}}}},
              "400": {"$ref": "#/components/responses/Error"},
              "401": {"$ref": "#/components/responses/Error"},
              "503": {"$ref": "#/components/responses/Error"}
            }
          }
        },
        "/v1/chains/{id}": {
          "get": {
            "summary": "One chain: its segments with every task tried, the budget, the money billed, and once joined the video, the seams and the join's report.",
            "operationId": "getChain",
            "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
            "responses": {
              "200": {"description": "The chain.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Chain"}}}},
              "401": {"$ref": "#/components/responses/Error"},
              "404": {"$ref": "#/components/responses/Error"},
              "503": {"$ref": "#/components/responses/Error"}
            }
          }
        },
        "/v1/chains/{id}/video.mp4": {
          "get": {
            "summary": "The joined video of a joined chain.", "operationId": "getChainVideo",
            "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
            "responses": {
              "200": {"description": "The video.", "content": {"video/mp4": {"schema": {"type": "string", "format": "binary"}}}},
              "401": {"$ref": "#/components/responses/Error"},
              "404": {"$ref": "#/components/responses/Error"},
              "503": {"$ref": "#/components/responses/Error"}
            }
          }
        },
        "/v1/chains/{id}/seams.png": {
          "get": {
            "summary": "The contact sheet of a joined chain's seams: the last frame before and the first after each.", "operationId": "getChainSeams",
            "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
            "responses": {
              "200": {"description": "The contact sheet.", "content": {"image/png": {"schema": {"type": "string", "format": "binary"}}}},
              "401": {"$ref": "#/components/responses/Error"},
              "404": {"$ref": "#/components/responses/Error"},
              "503": {"$ref": "#/components/responses/Error"}
            }
          }
        },
        "/v1/jobs": {
          "get": {
            "summary": "Jobs in the durable queue, newest first.", "operationId": "listJobs",
            "parameters": [
              {"name": "state", "in": "query", "required": false, "schema": {"enum": ["queued", "running", "succeeded", "dead", "cancelled"]}},
              {"name": "kind", "in": "query", "required": false, "schema": {"type": "string"}},
              {"name": "limit", "in": "query", "required": false, "schema": {"type": "integer", "minimum": 1, "maximum": 1000}}
            ],
            "responses": {
              "200": {"description": "The jobs.", "content": {"application/json": {"schema": {"type": "object", "properties": {"jobs": {"type": "array", "items": {"$ref": "#/components/schemas/Job"}}}, "required": ["jobs"]}}}},
              "400": {"$ref": "#/components/responses/Error"},
              "401": {"$ref": "#/components/responses/Error"}
            }
          }
        },
        "/v1/budgets": {
          "get": {
            "summary": "Budgets: the limit, what submissions not yet billed hold (reserved), what bills settled (spent), and what is left.",
            "operationId": "listBudgets",
            "responses": {
              "200": {"description": "The budgets.", "content": {"application/json": {"schema": {"type": "object", "properties": {"budgets": {"type": "array", "items": {"$ref": "#/components/schemas/Budget"}}}, "required": ["budgets"]}}}},
              "401": {"$ref": "#/components/responses/Error"}
            }
          }
        },
        "/v1/audit": {
          "get": {
            "summary": "The billing audit of the ledger's tasks against their clips: the report clipkit audit prints (findings with the money disputed, totals per currency).",
            "operationId": "audit",
            "parameters": [
              {"name": "from", "in": "query", "required": false, "schema": {"type": "string", "format": "date-time"}},
              {"name": "to", "in": "query", "required": false, "schema": {"type": "string", "format": "date-time"}},
              {"name": "provider", "in": "query", "required": false, "schema": {"type": "string"}},
              {"name": "format", "in": "query", "required": false, "schema": {"enum": ["json", "csv", "html"]}}
            ],
            "responses": {
              "200": {"$ref": "#/components/responses/AuditReport"},
              "400": {"$ref": "#/components/responses/Error"},
              "401": {"$ref": "#/components/responses/Error"}
            }
          }
        },
        "/v1/bills": {
          "post": {
            "summary": "Reconcile a provider's bill or responses (JSON, JSON Lines, or CSV as text/csv, as clipkit audit --records reads them) against the ledger; the findings are recorded once per bill.",
            "operationId": "reconcileBill",
            "parameters": [{"name": "format", "in": "query", "required": false, "schema": {"enum": ["json", "csv", "html"]}}],
            "requestBody": {"required": true, "content": {
              "application/json": {"schema": {"type": ["object", "array"]}}, "application/x-ndjson": {"schema": {"type": "string"}}, "text/csv": {"schema": {"type": "string"}}
            }},
            "responses": {
              "200": {"$ref": "#/components/responses/AuditReport"},
              "400": {"$ref": "#/components/responses/Error"},
              "401": {"$ref": "#/components/responses/Error"},
              "413": {"$ref": "#/components/responses/Error"},
              "422": {"$ref": "#/components/responses/Error"}
            }
          }
        },
        "/v1/webhooks/wavespeed": {
          "post": {
            "summary": "WaveSpeed's signed webhook.",
            "description": "Checked with WAVESPEED_WEBHOOK_SECRET: webhook-signature v3,<hex HMAC-SHA256 of id.timestamp.body>, the timestamp within 300 s of now. Recorded once per webhook-id (a redelivery answers 200 with duplicate true and does nothing again), also for a task the ledger does not know, and handed to a job.",
            "security": [], "operationId": "waveSpeedWebhook",
            "parameters": [
              {"name": "webhook-id", "in": "header", "required": true, "schema": {"type": "string"}},
              {"name": "webhook-timestamp", "in": "header", "required": true, "schema": {"type": "string"}},
              {"name": "webhook-signature", "in": "header", "required": true, "schema": {"type": "string"}}
            ],
            "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object"}}}},
            "responses": {
              "200": {"description": "Accepted (or a redelivery, acknowledged).", "content": {"application/json": {"schema": {"type": "object", "properties": {"delivery": {"type": "string"}, "duplicate": {"type": "boolean"}, "taskKnown": {"type": "boolean"}}, "required": ["delivery", "duplicate", "taskKnown"]}}}},
              "401": {"$ref": "#/components/responses/Error"},
              "413": {"$ref": "#/components/responses/Error"},
              "503": {"$ref": "#/components/responses/Error"}
            }
          }
        }
      },
      "components": {
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "description": "A token from clipkit token create."}},
        "parameters": {
          "tier": {"name": "tier", "in": "query", "required": false, "schema": {"enum": ["480P", "720P", "1080P"]}, "description": "Raw uploads: billed resolution tier."},
          "duration": {"name": "duration", "in": "query", "required": false, "schema": {"type": "number", "minimum": 0.001, "maximum": 86400}, "description": "Raw uploads: billed seconds."},
          "fps": {"name": "fps", "in": "query", "required": false, "schema": {"type": "number", "minimum": 0.001, "maximum": 1000}},
          "audio": {"name": "audio", "in": "query", "required": false, "schema": {"enum": ["yes", "no"]}},
          "toleranceFrames": {"name": "toleranceFrames", "in": "query", "required": false, "schema": {"type": "number", "minimum": 0, "maximum": 100000}, "description": "Frames the clip may be shorter than duration (default 1)."}
        },
        "requestBodies": {
          "Clip": {
            "required": true,
            "description": "The clip's bytes (any video/* or application/octet-stream; requirements in the query), or JSON naming its URL.",
            "content": {
              "video/mp4": {"schema": {"type": "string", "format": "binary"}},
              "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
              "application/json": {"schema": {"type": "object", "properties": {"url": {"type": "string", "format": "uri"}, "requirements": {"$ref": "#/components/schemas/Requirements"}}, "required": ["url"]}}
            }
          }
        },
        "responses": {
          "Error": {"description": "An error.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
          "AuditReport": {"description": "The audit report in the format asked for.", "content": {
            "application/json": {"schema": {"type": "object", "required": ["summary", "findings"], "properties": {"summary": {"type": "object"}, "findings": {"type": "array", "items": {"type": "object"}}}}},
            "text/csv": {"schema": {"type": "string"}}, "text/html": {"schema": {"type": "string"}}
          }}
        },
        "schemas": {
          "Error": {
            "type": "object", "required": ["error"],
            "properties": {"error": {"type": "object", "required": ["code", "message"], "properties": {
              "code": {"type": "string", "description": "unauthorized, notFound, badRequest, payloadTooLarge, unsupportedMediaType, idempotencyKeyReused, methodNotAllowed, unavailable, internal; for a clip that cannot be read the probe's code: empty, notMedia, truncated, noVideo, unreadable; for a webhook the rejection: missingHeader, malformedSignature, badTimestamp, stale, signatureMismatch."},
              "message": {"type": "string"}}}}
          },
          "Requirements": {
            "type": "object", "description": "What clipkit verify checks, by its option names.",
            "properties": {
              "tier": {"enum": ["480P", "720P", "1080P"]},
              "duration": {"type": "number", "minimum": 0.001, "maximum": 86400},
              "fps": {"type": "number", "minimum": 0.001, "maximum": 1000},
              "audio": {"type": "boolean"},
              "toleranceFrames": {"type": "number", "minimum": 0, "maximum": 100000}
            }
          },
          "Clip": {
            "type": "object", "required": ["id", "sha256", "byteCount", "createdAt", "probe", "frames"],
            "properties": {
              "id": {"type": "string"},
              "sha256": {"type": "string"},
              "byteCount": {"type": "integer"},
              "sourceURL": {"type": ["string", "null"], "description": "Where it was downloaded from, without query or credentials."},
              "taskID": {"type": ["string", "null"]},
              "createdAt": {"type": "string", "format": "date-time"},
              "probe": {"type": "object", "description": "Exactly what clipkit probe --format json prints for the stored file (clips/ID.mp4 in the data directory)."},
              "verification": {"anyOf": [{"$ref": "#/components/schemas/Verification"}, {"type": "null"}]},
              "frames": {"type": "object", "additionalProperties": {"type": "string"}, "description": "Frame name (first, last, N) to its URL."}
            }
          },
          "Verification": {
            "type": "object", "required": ["passed", "failures", "requirements"], "properties": {
              "passed": {"type": "boolean"},
              "failures": {"type": "array", "items": {"type": "object", "properties": {"property": {"type": "string"}, "expected": {"type": "string"}, "actual": {"type": "string"}, "message": {"type": "string"}}}},
              "requirements": {"$ref": "#/components/schemas/Requirements"}}
          },
          "TaskRequest": {
            "type": "object", "required": ["provider", "prompt"],
            "properties": {
              "provider": {"type": "string", "minLength": 1, "description": "dashscope, wavespeed, modelverse, or sandbox when the server was started with --sandbox."},
              "model": {"type": ["string", "null"]}, "prompt": {"type": "string"}, "negativePrompt": {"type": ["string", "null"]},
              "image": {"type": ["string", "null"], "pattern": "^(https?://|data:)", "description": "First frame: an http(s) URL or a data: URI."},
              "lastImage": {"type": ["string", "null"], "pattern": "^(https?://|data:)", "description": "Last frame (kf2v), as image."},
              "resolution": {"enum": ["480P", "720P", "1080P", null]}, "size": {"type": ["string", "null"]},
              "duration": {"type": ["integer", "null"], "minimum": 1, "maximum": 60}, "seed": {"type": ["integer", "null"]},
              "audio": {"type": ["boolean", "null"]},
              "voice": {"type": ["string", "null"], "pattern": "^(https?://|data:audio/)", "description": "s2v, with image as the reference portrait: the voice track, an http(s) URL or a data:audio/…;base64 URI. The clip lasts as long as the voice and is billed by it (no duration); verified against its decoded length."}
            }
          },
          "Task": {
            "type": "object", "required": ["id", "provider", "model", "state", "statusHistory", "createdAt", "updatedAt"],
            "properties": {
              "id": {"type": "string"}, "provider": {"type": "string"}, "model": {"type": "string"},
              "providerTaskID": {"type": ["string", "null"]},
              "state": {"type": "string", "description": "submitting, queued, running, succeeded, failed, canceled, unknown."},
              "status": {"type": ["string", "null"]}, "statusHistory": {"type": "array", "items": {"type": "object"}},
              "request": {"description": "The request as recorded, without secrets."}, "usage": {"description": "The provider's usage, as billed."},
              "billed": {"type": ["object", "null"], "description": "Exact money: amount as decimal text and currency."},
              "outputURL": {"type": ["string", "null"]}, "contentFlagged": {"type": ["boolean", "null"]},
              "error": {"type": ["object", "null"]}, "clip": {"type": ["object", "null"]},
              "createdAt": {"type": "string", "format": "date-time"}, "updatedAt": {"type": "string", "format": "date-time"}
            }
          },
          "ChainRequest": {
            "type": "object", "required": ["storyboard"],
            "properties": {
              "storyboard": {"$ref": "#/components/schemas/Storyboard"},
              "provider": {"type": ["string", "null"], "description": "Overrides the storyboard's defaults.provider."},
              "budget": {"oneOf": [{"$ref": "#/components/schemas/Money"}, {"type": "null"}], "description": "The chain's own budget (chain:ID): every submission is reserved on it and on the account's; a storyboard estimated over it is refused (402)."}
            }
          },
          "Storyboard": {
            "type": "object", "required": ["segments"], "description": "As clipkit chain reads it, with images and voices as http(s) URLs or data: URIs.",
            "properties": {
              "defaults": {"type": ["object", "null"], "properties": {
                "provider": {"type": ["string", "null"]}, "model": {"type": ["string", "null"]}, "t2vModel": {"type": ["string", "null"]},
                "i2vModel": {"type": ["string", "null"]}, "kf2vModel": {"type": ["string", "null"]}, "s2vModel": {"type": ["string", "null"]},
                "resolution": {"enum": ["480P", "720P", "1080P", null]}, "seed": {"type": ["integer", "null"]},
                "duration": {"type": ["integer", "null"], "minimum": 1, "maximum": 60}, "negativePrompt": {"type": ["string", "null"]},
                "audio": {"type": ["boolean", "null"]}
              }},
              "firstImage": {"type": ["string", "null"], "pattern": "^(https?://|data:)"},
              "segments": {"type": "array", "minItems": 1, "maxItems": 100, "items": {
                "type": "object", "required": ["prompt"],
                "properties": {
                  "prompt": {"type": "string"}, "lastImage": {"type": ["string", "null"], "pattern": "^(https?://|data:)"},
                  "audio": {"type": ["string", "null"], "pattern": "^(https?://|data:audio/)"}, "model": {"type": ["string", "null"]},
                  "seed": {"type": ["integer", "null"]}, "negativePrompt": {"type": ["string", "null"]}
                }
              }}
            }
          },
          "Chain": {
            "type": "object", "required": ["id", "provider", "state", "segments", "billed", "createdAt", "updatedAt"],
            "properties": {
              "id": {"type": "string"}, "provider": {"type": "string"},
              "state": {"type": "string", "description": "running, joining, joined or failed."},
              "segments": {"type": "array", "items": {"type": "object", "required": ["position", "state", "tasks"], "properties": {
                "position": {"type": "integer"}, "prompt": {"type": ["string", "null"]},
                "state": {"type": "string", "description": "pending, generating or accepted."},
                "clipID": {"type": ["string", "null"]}, "lastFrameURL": {"type": ["string", "null"]},
                "tasks": {"type": "array", "items": {"type": "object", "required": ["id", "state"]}}
              }}},
              "budget": {"type": ["object", "null"]},
              "billed": {"type": "array", "items": {"$ref": "#/components/schemas/Money"}},
              "videoURL": {"type": ["string", "null"]}, "contactSheetURL": {"type": ["string", "null"]},
              "report": {"description": "The join's report (seams, repeated frames dropped, colour), or {error} when the chain failed."},
              "error": {"type": ["string", "null"]},
              "createdAt": {"type": "string", "format": "date-time"}, "updatedAt": {"type": "string", "format": "date-time"}
            }
          },
          "Money": {
            "type": "object", "required": ["amount", "currency"],
            "properties": {"amount": {"type": "string", "description": "Exact decimal text, e.g. 1.70."}, "currency": {"type": "string"}}
          },
          "Budget": {
            "type": "object", "required": ["name", "limit", "reserved", "spent", "left", "updatedAt"],
            "properties": {
              "name": {"type": "string"}, "limit": {"$ref": "#/components/schemas/Money"},
              "reserved": {"$ref": "#/components/schemas/Money"}, "spent": {"$ref": "#/components/schemas/Money"},
              "left": {"$ref": "#/components/schemas/Money"}, "updatedAt": {"type": "string", "format": "date-time"}
            }
          },
          "Job": {
            "type": "object", "required": ["id", "kind", "state", "attempts", "maxAttempts", "runAt", "createdAt", "updatedAt", "payload"],
            "properties": {
              "id": {"type": "integer"}, "kind": {"type": "string"},
              "state": {"enum": ["queued", "running", "succeeded", "dead", "cancelled"]},
              "uniqueKey": {"type": ["string", "null"]}, "attempts": {"type": "integer"}, "maxAttempts": {"type": "integer"},
              "runAt": {"type": "string", "format": "date-time"}, "createdAt": {"type": "string", "format": "date-time"},
              "updatedAt": {"type": "string", "format": "date-time"}, "finishedAt": {"type": ["string", "null"], "format": "date-time"},
              "lastError": {"type": ["string", "null"]}, "payload": {}
            }
          }
        }
      }
    }
    """#
}
