#!/usr/bin/env python3
"""Load generator for `clipkit serve` (run by bench/service.sh; Python's standard library only).

  service_load.py clips BASE TOKEN FILE --mode upload|url [--route /v1/clips|/v1/probe] [--clients 16] [--requests 400]
      POST the clip to ROUTE from CLIENTS keep-alive connections at once: the file's bytes (upload),
      or {"url"} naming it on a loopback HTTP server this script starts (url).

Prints one JSON object: requests, seconds, per_second, p50_ms, p99_ms (client-side latency of each
request, Python's own overhead included), statuses.
"""
import argparse
import http.client
import http.server
import json
import statistics
import threading
import time
import urllib.parse


def connection(base):
    url = urllib.parse.urlsplit(base)
    return http.client.HTTPConnection(url.hostname, url.port, timeout=120)


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def report(latencies, statuses, seconds):
    return {
        "requests": len(latencies),
        "seconds": round(seconds, 3),
        "per_second": round(len(latencies) / seconds, 1),
        "p50_ms": round(1000 * percentile(latencies, 0.50), 2),
        "p99_ms": round(1000 * percentile(latencies, 0.99), 2),
        "mean_ms": round(1000 * statistics.fmean(latencies), 2),
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
    }


def run_clients(count, per_client, send):
    """Runs `count` threads, each sending `per_client` requests with send(conn, index) -> status."""
    latencies, statuses, lock = [], {}, threading.Lock()
    start_line = threading.Barrier(count + 1)

    def client(number):
        # Connected and the requests made ready before the start: the latency is the server's answer on an
        # open keep-alive connection, not the TCP handshakes or Python's HMACs of 200 threads at once.
        conn = send.connect()
        try:
            conn.connect()
        except OSError:
            conn = None
        prepared = [send.prepare(number * per_client + index) for index in range(per_client)]
        start_line.wait()
        for request in prepared:
            began = time.perf_counter()
            try:
                if conn is None:
                    conn = send.connect()
                status = send(conn, request)
            except (OSError, http.client.HTTPException) as error:
                conn, status = None, type(error).__name__
            took = time.perf_counter() - began
            with lock:
                latencies.append(took)
                statuses[status] = statuses.get(status, 0) + 1

    threads = [threading.Thread(target=client, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    start_line.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    return report(latencies, statuses, time.perf_counter() - began)


class Sender:
    """send(conn, prepare(index)) -> status; prepare runs before the clock starts."""

    def __init__(self, base, function, prepare=lambda index: index):
        self.base, self.function, self.prepare = base, function, prepare

    def connect(self):
        return connection(self.base)

    def __call__(self, conn, request):
        return self.function(conn, request)


def serve_file(path):
    """A loopback HTTP server answering GET /clip.mp4 with the file; returns its URL."""
    body = open(path, "rb").read()

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "video/mp4")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return "http://127.0.0.1:%d/clip.mp4" % server.server_address[1]


def clips(args):
    headers = {"Authorization": "Bearer " + args.token}
    if args.mode == "upload":
        body = open(args.file, "rb").read()
        headers["Content-Type"] = "video/mp4"
    else:
        body = json.dumps({"url": serve_file(args.file)}).encode()
        headers["Content-Type"] = "application/json"

    def post(conn, _):
        conn.request("POST", args.route, body=body, headers=headers)
        answer = conn.getresponse()
        answer.read()
        return answer.status

    per_client = max(1, args.requests // args.clients)
    return run_clients(args.clients, per_client, Sender(args.base, post))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    c = commands.add_parser("clips")
    c.add_argument("base"), c.add_argument("token"), c.add_argument("file")
    c.add_argument("--mode", choices=["upload", "url"], default="upload")
    c.add_argument("--route", choices=["/v1/clips", "/v1/probe"], default="/v1/clips")
    c.add_argument("--clients", type=int, default=16)
    c.add_argument("--requests", type=int, default=400)
    args = parser.parse_args()
    result = clips(args)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
