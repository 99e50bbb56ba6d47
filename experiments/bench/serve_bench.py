"""The scoring service under load (issue 17): churn-score serve against the
Python stack a team would otherwise deploy (serve_bench_app.py: FastAPI on
uvicorn with 2 worker processes, a scikit-learn forest of 100 trees), in one
run on one machine, both on 127.0.0.1 with 2 workers.

Load: our own generator (loadgen.rs, keep-alive connections paced to a
total rate; latency counted from when a request was due). Single-customer
requests at increasing rates, then as fast as answers come; then batches
of 1,000 customers as fast as answers come. Each step is bounded in time
(STEP seconds). The load generator runs on the same 2 cores; the table
gives the CPU time each side spent per request (/proc and getrusage).

churn-score serve runs as deployed: default settings, access log on,
written to a file; then once more as a bank would expose it, with TLS
(certificates made here with the openssl command) and a bearer token
(--auth-tokens), the load generator keeping its connections (and TLS
sessions) alive; its model is churn-train --models random_forest on the
embedded data/customers.csv. The bodies are customers of the embedded
data/score_sample.csv.

Usage: python serve_bench.py CHURN_TRAIN CHURN_SCORE LOADGEN WORKDIR
Writes serve_results.md and .json next to this script."""
import json, os, platform, resource, signal, socket, subprocess, sys, time, csv
from pathlib import Path
from urllib.request import urlopen

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
STEP = float(os.environ.get("STEP", "5"))
CONNS = 32
# The goal's step (20k/s) runs three times: its p99 swings with the shared
# machine's spells, and one run in three is no verdict.
CHURN_RATES = [2000, 5000, 10000, 15000, 20000, 20000, 20000, 0]
PY_RATES = [200, 500, 1000, 0]


def cpu():
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor()


def wait_up(port, proc, secs=120):
    t0 = time.time()
    while time.time() - t0 < secs:
        if proc.poll() is not None:
            raise RuntimeError(f"the service on {port} exited with {proc.returncode}")
        try:
            if port == TLS_PORT:  # up when it accepts (the handshake is the load generator's)
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return
            urlopen(f"http://127.0.0.1:{port}/healthz" if port != PY_PORT else f"http://127.0.0.1:{port}/docs", timeout=1)
            return
        except Exception:
            time.sleep(0.3)
    raise RuntimeError(f"the service on {port} did not start")


TICK = os.sysconf("SC_CLK_TCK")


def tree_cpu(pid):
    """CPU seconds (user + system) of process `pid` and its children (the
    Python service's worker processes)."""
    total = 0.0
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            f = open(f"/proc/{d}/stat").read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(d) == pid or int(f[1]) == pid:
            total += (int(f[11]) + int(f[12])) / TICK
    return total


def load(loadgen, port, body, conns, rate, secs=STEP, server=None, client=()):
    """One step; with `server` (its pid) also the CPU time the service and
    the load generator spent, per request: both share the 2 cores."""
    before = tree_cpu(server) if server else 0.0
    child = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run([loadgen, f"127.0.0.1:{port}", "/v1/score", str(body), str(conns), str(secs), str(rate), *client],
                         capture_output=True, text=True, check=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    r = json.loads(out.stdout)
    r["rate"] = rate
    n = max(r["requests"], 1)
    r["loadgen_cpu_us"] = 1e6 * (after.ru_utime + after.ru_stime - child.ru_utime - child.ru_stime) / n
    if server:
        r["service_cpu_us"] = 1e6 * (tree_cpu(server) - before) / n
    return r


def bodies(work):
    rows = list(csv.DictReader(open(ROOT / "data/score_sample.csv")))

    def conv(v):
        if v.strip() == "":
            return None
        try:
            return float(v)
        except ValueError:
            return v
    one, batch = work / "one.json", work / "batch.json"
    one.write_text(json.dumps({"customers": [{k: conv(v) for k, v in rows[0].items()}]}))
    batch.write_text(json.dumps({"customers": [{k: conv(v) for k, v in r.items()} for r in rows[:1000]]}))
    return one, batch


def bench(name, cmd, port, loadgen, one, batch, rates, cwd=None, log=None, client=()):
    proc = subprocess.Popen(cmd, cwd=cwd, stderr=log or subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    try:
        wait_up(port, proc)
        load(loadgen, port, one, 4, 0, 2, client=client)  # warm-up
        single = [load(loadgen, port, one, CONNS, r, server=proc.pid, client=client) for r in rates]
        many = load(loadgen, port, batch, 4, 0, 2 * STEP, server=proc.pid, client=client)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    return {"name": name, "single": single, "batch_1000": many}


PY_PORT = 18091
TLS_PORT = 18092
TLS_RATES = [5000, 10000, 15000, 0]


def pki(work):
    """A CA and a server certificate for localhost (openssl command)."""
    run = lambda *a: subprocess.run(["openssl", *a], cwd=work, check=True, capture_output=True)
    key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    run("req", "-x509", "-days", "2", "-subj", "/CN=bench-ca", "-keyout", "ca.key", "-out", "ca.pem", *key)
    run("req", "-subj", "/CN=localhost", "-keyout", "server.key", "-out", "server.csr", *key)
    (work / "server.ext").write_text("subjectAltName=DNS:localhost\nextendedKeyUsage=serverAuth\n")
    run("x509", "-req", "-days", "2", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
        "-CAcreateserial", "-out", "server.pem", "-extfile", "server.ext")
    token = "bench-token-" + os.urandom(8).hex()
    (work / "tokens").write_text(f"bench:{token}\n")
    return token


def main():
    train, score, loadgen, work = sys.argv[1:5]
    work = Path(work)
    work.mkdir(parents=True, exist_ok=True)
    subprocess.run([train, "-q", "--models", "random_forest", "--folds", "2", "--out", str(work / "exp"),
                    "--model-dir", str(work / "models")], check=True, cwd=ROOT)
    one, batch = bodies(work)
    with open(work / "access.log", "w") as log:
        churn = bench("churn-score serve", [score, "serve", "--model", str(work / "models/latest"), "--addr",
                      "127.0.0.1:18090", "--workers", "2"], 18090, loadgen, one, batch, CHURN_RATES, ROOT, log)
        token = pki(work)
        secure = bench("churn-score serve, TLS + token", [score, "serve", "--model", str(work / "models/latest"), "--addr",
                       f"127.0.0.1:{TLS_PORT}", "--workers", "2", "--tls-cert", str(work / "server.pem"), "--tls-key",
                       str(work / "server.key"), "--auth-tokens", str(work / "tokens")], TLS_PORT, loadgen, one, batch,
                       TLS_RATES, ROOT, log, client=(f"tls={work / 'ca.pem'}", f"auth={token}"))
    py = bench("FastAPI + uvicorn (2 workers) + scikit-learn", [sys.executable, "-m", "uvicorn", "serve_bench_app:app",
               "--host", "127.0.0.1", "--port", str(PY_PORT), "--workers", "2", "--log-level", "warning",
               "--no-access-log"], PY_PORT, loadgen, one, batch, PY_RATES, HERE)
    result = {"cpu": cpu(), "cores": os.cpu_count(), "step_seconds": STEP, "connections": CONNS,
              "runs": [churn, secure, py]}
    (HERE / "serve_results.json").write_text(json.dumps(result, indent=2))
    best = lambda run: max(s["rps"] for s in run["single"])
    # Sustained: a paced step (latency counted from when each request was
    # due) that kept up with its rate, with p99 < 5 ms and no failures.
    # A rate run more than once is sustained when most of its runs are.
    passed = lambda s: (s["rps"] >= 0.98 * s["rate"] and s["p99_ms"] < 5 and s["non_2xx"] == 0
                        and s["errors"] == 0)
    runs_at = lambda run, rate: [s for s in run["single"] if s["rate"] == rate]
    ok = lambda run: [r for r in {s["rate"] for s in run["single"] if s["rate"] > 0}
                      if 2 * sum(map(passed, runs_at(run, r))) > len(runs_at(run, r))]
    lines = [
        "# Scoring service under load (issue 17)", "",
        f"CPU: {result['cpu']}, {result['cores']} cores; load generator on the same cores; "
        f"{STEP:g} s per step, {CONNS} keep-alive connections for single customers, 4 for batches.",
        "Reproduce: `bash experiments/bench/serve_bench.sh`.", "",
        "| service | load | target rate/s | requests/s | customers/s | p50 ms | p99 ms | max ms | non-2xx | errors "
        "| service CPU µs/request | load generator CPU µs/request |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for run in (churn, secure, py):
        for s in run["single"]:
            rate = "max" if s["rate"] == 0 else f"{s['rate']:,}"
            lines.append(f"| {run['name']} | 1 customer | {rate} | {s['rps']:,.0f} | {s['rps']:,.0f} | {s['p50_ms']:.2f} | "
                         f"{s['p99_ms']:.2f} | {s['max_ms']:.2f} | {s['non_2xx']} | {s['errors']} | "
                         f"{s['service_cpu_us']:.0f} | {s['loadgen_cpu_us']:.0f} |")
        b = run["batch_1000"]
        lines.append(f"| {run['name']} | 1,000 customers | max | {b['rps']:,.1f} | {b['rps'] * 1000:,.0f} | {b['p50_ms']:.1f} | "
                     f"{b['p99_ms']:.1f} | {b['max_ms']:.1f} | {b['non_2xx']} | {b['errors']} | "
                         f"{b['service_cpu_us']:.0f} | {b['loadgen_cpu_us']:.0f} |")
    c_ok = max(ok(churn), default=0)
    goal = runs_at(churn, 20000)
    flat = next(s for s in churn["single"] if s["rate"] == 0)
    ratio = best(churn) / max(best(py), 1e-9)
    bratio = churn["batch_1000"]["rps"] / max(py["batch_1000"]["rps"], 1e-9)
    lines += ["",
              f"- Highest paced single-customer rate churn sustained with p99 < 5 ms: **{c_ok:,.0f} requests/s** "
              f"(goal 20,000: {'met' if c_ok >= 20000 else 'NOT MET'}; the 20,000/s step ran {len(goal)} times: "
              f"{sum(map(passed, goal))} kept up with p99 < 5 ms; p99 "
              f"{', '.join('%.1f' % s['p99_ms'] for s in goal)} ms).",
              f"- Flat out (each connection sends its next request when the answer arrives; latency from sending): "
              f"{flat['rps']:,.0f} requests/s at p99 {flat['p99_ms']:.2f} ms. Paced steps near that rate queue: "
              "their p99 counts the wait from when each request was due.",
              f"- CPU per single-customer request flat out: service {flat['service_cpu_us']:.0f} µs, load generator "
              f"{flat['loadgen_cpu_us']:.0f} µs (most of it the kernel's loopback TCP, which charges a receiver's work "
              f"to the sender). With both on {result['cores']} cores the machine carries at most "
              f"{result['cores'] * 1e6 / (flat['service_cpu_us'] + flat['loadgen_cpu_us']):,.0f} requests/s at 100% busy.",
              f"- TLS + bearer token, flat out: {next(s for s in secure['single'] if s['rate'] == 0)['rps']:,.0f} requests/s "
              f"= **{best(secure) / best(churn):.0%}** of plain HTTP's {best(churn):,.0f} (goal ≥ 80%: "
              f"{'met' if best(secure) >= 0.8 * best(churn) else 'NOT MET'}); batches of 1,000: "
              f"{secure['batch_1000']['rps'] / churn['batch_1000']['rps']:.0%}. Highest paced rate sustained with p99 < 5 ms: "
              f"{max(ok(secure), default=0):,.0f} requests/s.",
              f"- Single-customer throughput, churn / Python: **{ratio:.1f}x** (goal 10x: {'met' if ratio >= 10 else 'NOT MET'}); "
              f"batches of 1,000: **{bratio:.1f}x**.",
              "- churn answers with probability, flag, warning level, value tier, CLV, three reasons, action, owner "
              "and contact days; the Python service with the probability only.", ""]
    (HERE / "serve_results.md").write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
