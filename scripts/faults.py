#!/usr/bin/env python3
"""The fault-injection scenarios of scripts/faults.sh (which sets the environment up).

Starts the four services (debug binaries) itself, because it kills and restarts them; breaks
PostgreSQL, Redis and the services under bounded traffic; prints each scenario's figures;
exits 1 when a goal is missed. Standard library only.
"""

import http.client
import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid

ENV = os.environ
LONG = ENV.get("FAULTS_LONG") == "1"
BIN = ENV["FAULTS_BIN"]
LOGS = ENV["FAULTS_LOGS"]
BASE = int(ENV["FAULTS_BASE_PORT"])
PG_PORT = ENV["FAULTS_PG_PORT"]
REDIS_PORT = ENV["FAULTS_REDIS_PORT"]
ADMIN_KEY = ENV["ADMIN_API_KEY"]
PREFIX = ENV["REDIS_KEY_PREFIX"]
UPSTREAM_TIMEOUT = float(ENV["UPSTREAM_TIMEOUT_SECONDS"])
PENDING_TIMEOUT = float(ENV["PENDING_TIMEOUT_SECONDS"])
# a request that takes longer than the gateway's upstream timeout (plus slack for a debug
# build on two busy cores) is a hang
HANG = UPSTREAM_TIMEOUT + 5
GATEWAY = BASE + 80
PORTS = {
    "demo-session": BASE + 1,
    "tenant-service": BASE + 2,
    "inventory-service": BASE + 3,
    "gateway": GATEWAY,
}
ACCOUNTS = ["individual_bakery", "central_baker_satellite"]


def log(text):
    print(f"\033[1;34m==>\033[0m {text}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- processes


class Stack:
    """The four services, each started by us and stopped by us."""

    def __init__(self):
        self.procs = {}

    def start(self, name, **overrides):
        env = dict(ENV, PORT=str(PORTS[name]), **overrides)
        out = open(os.path.join(LOGS, f"{name}.log"), "ab")
        self.procs[name] = subprocess.Popen(
            [os.path.join(BIN, name), "serve"], env=env, stdout=out, stderr=out
        )
        out.close()

    def kill(self, name, sig=signal.SIGKILL):
        proc = self.procs.pop(name, None)
        if proc and proc.poll() is None:
            proc.send_signal(sig)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def stop_all(self):
        for name in list(self.procs):
            self.kill(name, signal.SIGTERM)

    def pid(self, name):
        return self.procs[name].pid

    def wait_ready(self, name, seconds=30):
        """Polls /ready until 200; the seconds it took, or None past the deadline."""
        start = time.monotonic()
        while time.monotonic() - start < seconds:
            proc = self.procs.get(name)
            if proc is not None and proc.poll() is not None:
                raise RuntimeError(f"{name} exited with {proc.returncode} (log: {LOGS}/{name}.log)")
            if request("GET", "/ready", port=PORTS[name], timeout=2).status == 200:
                return time.monotonic() - start
            time.sleep(0.1)
        return None


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw).stdout


def as_postgres(cmd):
    return ENV["FAULTS_AS_POSTGRES"].split() + cmd


def pg_ctl(*args):
    run(as_postgres([ENV["FAULTS_PG_CTL"], "-D", ENV["FAULTS_PG_DATA"], *args]))


def pg_stop():
    pg_ctl("-m", "fast", "-w", "stop")


def pg_start():
    pg_ctl("-l", ENV["FAULTS_PG_LOG"], "-o", f"-p {PG_PORT}", "-w", "-t", "60", "start")


def redis_cli(*args):
    return run(["redis-cli", "-p", REDIS_PORT, *args]).strip()


def redis_stop():
    # our own instance: faults.sh refused to run unless it started it on this port
    subprocess.run(["redis-cli", "-p", REDIS_PORT, "shutdown", "nosave"], capture_output=True)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if subprocess.run(["redis-cli", "-p", REDIS_PORT, "ping"], capture_output=True).returncode != 0:
            return
        time.sleep(0.1)
    raise RuntimeError("Redis did not stop")


def redis_start():
    d = ENV["FAULTS_REDIS_DIR"]
    run(["redis-server", "--port", REDIS_PORT, "--bind", "127.0.0.1", "--daemonize", "yes",
         "--dir", d, "--pidfile", f"{d}/redis.pid", "--logfile", f"{d}/redis.log",
         "--save", "", "--appendonly", "no", "--protected-mode", "yes",
         "--maxmemory", ENV["FAULTS_REDIS_MAXMEMORY"], "--maxmemory-policy", "noeviction"])
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if subprocess.run(["redis-cli", "-p", REDIS_PORT, "ping"], capture_output=True).returncode == 0:
            return
        time.sleep(0.1)
    raise RuntimeError("Redis did not start")


def psql(db, sql):
    """As the superuser (row-level security does not hide other tenants' rows)."""
    return run(["psql", "-h", "127.0.0.1", "-p", PG_PORT, "-U", "postgres", "-d", db,
                "-tAX", "-v", "ON_ERROR_STOP=1", "-c", sql]).strip()


class Locker:
    """A transaction holding a table lock in its own psql process until released (or until
    PostgreSQL stops): what makes a copy or a read wait in PostgreSQL at a known moment."""

    def __init__(self, db, table, mode):
        self.proc = subprocess.Popen(
            ["psql", "-h", "127.0.0.1", "-p", PG_PORT, "-U", "postgres", "-d", db, "-tAXq",
             "-v", "ON_ERROR_STOP=1"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.proc.stdin.write(f"BEGIN; LOCK TABLE {table} IN {mode} MODE; SELECT 'locked';\n")
        self.proc.stdin.flush()
        if self.proc.stdout.readline().strip() != "locked":
            raise RuntimeError(f"could not lock {db}.{table}")

    def release(self):
        try:
            self.proc.stdin.write("ROLLBACK;\n")
            self.proc.stdin.close()
        except OSError:
            pass  # PostgreSQL stopped under it
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def waiting_on_locks(db):
    return int(psql("postgres", "SELECT count(*) FROM pg_stat_activity WHERE datname = "
                                f"'{db}' AND wait_event_type = 'Lock'"))


def rows(db, sql):
    out = psql(db, sql)
    return [line for line in out.splitlines() if line]


def uuid_array(ids):
    return "'{" + ",".join(ids) + "}'::uuid[]"


def orphan_rows():
    """Rows of virtual tenants no live session (pending or ready) or pool slot owns, in the
    tenant and inventory databases: {database: rows}."""
    owned = rows("demo_session",
                 "SELECT virtual_tenant_id FROM demo_sessions WHERE status IN ('pending','ready') "
                 "UNION SELECT virtual_tenant_id FROM warm_tenants")
    real = rows("tenant", "SELECT id FROM tenants WHERE NOT is_demo")
    keep = uuid_array(owned + real)
    found = {"tenant": int(psql("tenant",
                                f"SELECT count(*) FROM tenants WHERE is_demo AND NOT (id = ANY({keep}))"))}
    for db in ("tenant", "inventory"):
        tables = rows(db, "SELECT table_name FROM information_schema.columns "
                          "WHERE table_schema = 'public' AND column_name = 'tenant_id'")
        if not tables:
            continue
        counts = " UNION ALL ".join(
            f"SELECT count(*) AS n FROM \"{t}\" WHERE NOT (tenant_id = ANY({keep}))" for t in tables)
        found[db] = found.get(db, 0) + int(psql(db, f"SELECT coalesce(sum(n), 0) FROM ({counts}) c"))
    return found


# ---------------------------------------------------------------- HTTP


class Answer:
    __slots__ = ("status", "headers", "body", "elapsed", "error")

    def __init__(self, status, headers, body, elapsed, error=None):
        self.status, self.headers, self.body, self.elapsed, self.error = status, headers, body, elapsed, error

    def json(self):
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    def envelope(self):
        """The JSON error envelope's code, or None when the body is not one."""
        body = self.json()
        if isinstance(body, dict) and isinstance(body.get("error"), str) and "message" in body:
            return body["error"]
        return None


def request(method, path, body=None, headers=None, port=GATEWAY, timeout=HANG):
    """One request on its own connection; status 0 when it could not be made or timed out."""
    start = time.monotonic()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        data = None
        hdrs = dict(headers or {})
        if body is not None:
            data = json.dumps(body).encode()
            hdrs["Content-Type"] = "application/json"
        conn.request(method, path, body=data, headers=hdrs)
        resp = conn.getresponse()
        raw = resp.read()
        return Answer(resp.status, {k.lower(): v for k, v in resp.getheaders()}, raw,
                      time.monotonic() - start)
    except (OSError, http.client.HTTPException) as e:
        return Answer(0, {}, b"", time.monotonic() - start, error=f"{type(e).__name__}: {e}")
    finally:
        conn.close()


def create_session(account=ACCOUNTS[0], timeout=HANG):
    return request("POST", "/api/demo/session/create", {"demo_account_type": account}, timeout=timeout)


def ready_session(account=ACCOUNTS[0]):
    a = create_session(account, timeout=60)
    if a.status != 201:
        raise RuntimeError(f"create answered {a.status}: {a.body[:300]!r}")
    return a.json()["session_id"]


def as_session(sid):
    return {"X-Demo-Session-Id": sid}


def cleanup_pass():
    a = request("POST", "/api/demo/cleanup/run", headers={"X-Admin-Key": ADMIN_KEY}, timeout=120)
    if a.status != 200:
        raise RuntimeError(f"cleanup answered {a.status}: {a.body[:300]!r}")
    return a.json()


def poll(check, seconds, interval=0.1):
    """Seconds until check() is true, or None past the deadline."""
    start = time.monotonic()
    while time.monotonic() - start < seconds:
        if check():
            return time.monotonic() - start
        time.sleep(interval)
    return None


# ---------------------------------------------------------------- traffic


class Traffic:
    """Threads sending requests until stopped, each at most `max_requests`; every answer
    is kept with the time it was sent (seconds since start)."""

    def __init__(self, makers, max_requests=4000, pause=0.02):
        self.makers = makers  # name -> () -> Answer
        self.max_requests = max_requests
        self.pause = pause
        self.stop_event = threading.Event()
        self.results = []  # (name, t, Answer)
        self.lock = threading.Lock()
        self.t0 = time.monotonic()
        self.threads = [threading.Thread(target=self._loop, args=(n, f), daemon=True)
                        for n, f in makers.items()]

    def _loop(self, name, make):
        for _ in range(self.max_requests):
            if self.stop_event.is_set():
                return
            t = time.monotonic() - self.t0
            a = make()
            with self.lock:
                self.results.append((name, t, a))
            self.stop_event.wait(self.pause)

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def now(self):
        return time.monotonic() - self.t0

    def __exit__(self, *exc):
        self.stop_event.set()
        for t in self.threads:
            t.join(timeout=HANG + 10)


def summarize(results):
    counts = {}
    for _, _, a in results:
        key = str(a.status) if a.status else "no answer"
        counts[key] = counts.get(key, 0) + 1
    return ", ".join(f"{n}× {k}" for k, n in sorted(counts.items()))


def clean_refusal(a, statuses):
    """A refusal the scenario allows: one of `statuses`, in the JSON envelope, with
    Retry-After on a 503, within the request timeout."""
    return (a.status in statuses and a.envelope() is not None
            and (a.status != 503 or "retry-after" in a.headers) and a.elapsed <= HANG)


# ---------------------------------------------------------------- scenarios


class Scenario:
    def __init__(self, name, goal):
        self.name, self.goal = name, goal
        self.figures = []
        self.misses = []

    def figure(self, text):
        self.figures.append(text)
        print(f"    {self.name}: {text}", flush=True)

    def check(self, ok, text):
        if not ok:
            self.misses.append(text)
            print(f"    \033[1;31m{self.name}: MISSED {text}\033[0m", flush=True)


def kill_clone(stack):
    s = Scenario("kill-clone", "each session ready or failed, 0 orphan rows after one cleanup pass")
    creates = 16 if LONG else 6
    started = time.time()
    answers = []

    def one(i):
        answers.append(create_session(ACCOUNTS[i % 2], timeout=60))

    # the copy into the inventory database waits at sale_lines (late in foreign-key order,
    # so the tables before it are written, uncommitted) while we hold a lock on it: the kill
    # lands mid-copy every time, not by timing luck. The wait must end before
    # DATABASE_LOCK_TIMEOUT_MS (2 s), which would fail the clone by itself.
    locker = Locker("inventory", "sale_lines", "EXCLUSIVE")
    threads = [threading.Thread(target=one, args=(i,), daemon=True) for i in range(creates)]
    for t in threads:
        t.start()
    first = poll(lambda: waiting_on_locks("inventory") > 0, 20, interval=0.01)
    if first is not None:
        poll(lambda: waiting_on_locks("inventory") >= creates, 0.8, interval=0.01)
    copying = waiting_on_locks("inventory")
    in_flight = int(psql("demo_session", "SELECT count(*) FROM demo_sessions WHERE status = 'pending'"))
    stack.kill("demo-session", signal.SIGKILL)
    locker.release()
    s.figure(f"{creates} creates sent; killed demo-session (SIGKILL) with {in_flight} sessions pending, "
             f"{copying} copies waiting mid-copy")
    s.check(copying > 0, "no clone copy was caught in flight")
    for t in threads:
        t.join(timeout=70)
    s.figure(f"create answers: {summarize([(None, 0, a) for a in answers])}")
    s.check(all(a.status == 201 or clean_refusal(a, {502, 503}) for a in answers),
            "a create answer was neither 201 nor a 502/503 envelope")
    stack.start("demo-session")
    took = stack.wait_ready("demo-session")
    s.check(took is not None, "demo-session did not come back")
    # pending sessions are failed once older than PENDING_TIMEOUT_SECONDS: wait for that
    # (from the database's clock), then one cleanup pass
    since = f"to_timestamp({started})"
    left = float(psql("demo_session",
                      "SELECT coalesce(extract(epoch FROM max(created_at) - now()), 0) "
                      f"FROM demo_sessions WHERE created_at >= {since} AND status = 'pending'"))
    time.sleep(max(0.0, left + PENDING_TIMEOUT + 1))
    report = cleanup_pass()
    s.figure(f"one cleanup pass: {len(report['cleaned'])} cleaned, {len(report['orphans_removed'])} "
             f"orphans removed, {len(report['failures'])} failures")
    statuses = rows("demo_session", "SELECT status || ' ' || count(*) FROM demo_sessions "
                                    f"WHERE created_at >= {since} GROUP BY status ORDER BY status")
    s.figure(f"sessions: {', '.join(statuses) or 'none'}")
    s.check(all(line.split()[0] in ("ready", "failed") for line in statuses),
            "a session is neither ready nor failed")
    orphans = orphan_rows()
    s.figure(f"orphan rows: {orphans}")
    s.check(sum(orphans.values()) == 0, "orphan rows left")
    return s


def steady_traffic(sessions, creates=True):
    """Reads through every upstream as two ready sessions, and (optionally) a create a
    second."""
    a, b = sessions
    makers = {
        "inventory": lambda: request("GET", "/api/inventory/ingredients", headers=as_session(a)),
        "tenant": lambda: request("GET", "/api/tenants/me", headers=as_session(b)),
        "demo-session": lambda: request("GET", f"/api/demo/session/{a}", headers=as_session(a)),
    }
    if creates:
        makers["create"] = lambda: (time.sleep(1), create_session(ACCOUNTS[1]))[1]
    return makers


def works(sid):
    """One request through each upstream answers 200."""
    return (request("GET", "/api/inventory/ingredients", headers=as_session(sid), timeout=5).status == 200
            and request("GET", "/api/tenants/me", headers=as_session(sid), timeout=5).status == 200
            and request("GET", f"/api/demo/session/{sid}", headers=as_session(sid), timeout=5).status == 200)


def pg_restart(stack):
    s = Scenario("pg-restart", "503 + Retry-After envelopes while down (no 500, no hang), "
                               "every service ready within 10 s of PostgreSQL's return")
    down = 10 if LONG else 3
    sessions = (ready_session(), ready_session(ACCOUNTS[1]))
    with Traffic(steady_traffic(sessions)) as traffic:
        time.sleep(2)
        # requests waiting in every database when it stops (each lock is held for less
        # than DATABASE_LOCK_TIMEOUT_MS): a stop -m fast ends them mid-query
        lockers = [Locker("inventory", "ingredients", "ACCESS EXCLUSIVE"),
                   Locker("tenant", "tenants", "ACCESS EXCLUSIVE"),
                   Locker("demo_session", "demo_sessions", "ACCESS EXCLUSIVE")]
        poll(lambda: all(waiting_on_locks(db) > 0 for db in ("inventory", "tenant", "demo_session")),
             1.0, interval=0.02)
        caught = {db: waiting_on_locks(db) for db in ("inventory", "tenant", "demo_session")}
        t_down = traffic.now()
        pg_stop()
        for locker in lockers:
            locker.release()
        time.sleep(down)
        pg_start()
        t_back = traffic.now()
        recovered = {}
        for name in ("tenant-service", "inventory-service", "demo-session", "gateway"):
            recovered[name] = poll(
                lambda n=name: request("GET", "/ready", port=PORTS[n], timeout=2).status == 200, 10)
        recovered["requests"] = poll(lambda: works(sessions[0]), 10)
        time.sleep(2)
    res = traffic.results
    s.figure(f"PostgreSQL down {down} s (stop -m fast, start), requests waiting in it when it "
             f"stopped: {caught}; {len(res)} requests: {summarize(res)}")
    s.figure("ready again after its return: " + ", ".join(
        f"{n} {'NOT in 10 s' if t is None else f'{t:.1f} s'}" for n, t in recovered.items()))
    for n, t in recovered.items():
        s.check(t is not None, f"{n} did not recover within 10 s")
    bad = [(n, t, a) for n, t, a in res if not (a.status in (200, 201) or clean_refusal(a, {503}))]
    s.figure(f"answers other than 2xx or a 503 envelope with Retry-After: {len(bad)}"
             + "".join(f"\n        {n} at {t:.1f} s: {a.status} {a.error or a.body[:160]!r}"
                       for n, t, a in bad[:8]))
    s.check(not bad, "an answer was not 2xx or a clean 503")
    during = [a for _, t, a in res if t_down <= t <= t_back]
    s.figure(f"while down: {summarize([(None, 0, a) for a in during])}; "
             f"slowest answer {max((a.elapsed for _, _, a in res), default=0):.2f} s")
    return s


def redis_outage(stack):
    s = Scenario("redis-outage", "ready sessions keep working, creates 201 or a clean 503, "
                                 "rate counters and session copies back in Redis after")
    down = 20
    sessions = (ready_session(), ready_session(ACCOUNTS[1]))
    with Traffic(steady_traffic(sessions)) as traffic:
        time.sleep(2)
        t_down = traffic.now()
        redis_stop()
        time.sleep(down)
        redis_start()
        t_back = traffic.now()
        time.sleep(3)
    res = traffic.results
    s.figure(f"Redis down {down} s; {len(res)} requests: {summarize(res)}")
    reads = [(n, t, a) for n, t, a in res if n != "create"]
    bad_reads = [(n, t, a) for n, t, a in reads if a.status != 200]
    s.figure(f"reads of ready sessions: {len(reads)}, not 200: {len(bad_reads)}"
             + "".join(f"\n        {n} at {t:.1f} s: {a.status} {a.error or a.body[:160]!r}"
                       for n, t, a in bad_reads[:8]))
    s.check(not bad_reads, "a ready session's read failed")
    creates = [a for n, _, a in res if n == "create"]
    during = [a for n, t, a in res if n == "create" and t_down <= t <= t_back]
    s.figure(f"creates: {summarize([(None, 0, a) for a in creates])} "
             f"({summarize([(None, 0, a) for a in during]) or 'none'} while down)")
    s.check(all(a.status == 201 or clean_refusal(a, {503}) for a in creates),
            "a create was neither 201 nor a clean 503")
    # after: a create counts in Redis again, and its session copy is there
    def resumed():
        a = create_session()
        if a.status != 201:
            return False
        sid = a.json()["session_id"]
        rate = redis_cli("--scan", "--pattern", f"{PREFIX}demo:rate:*")
        copy = redis_cli("exists", f"{PREFIX}demo:session:{sid}")
        return bool(rate) and copy == "1"
    took = poll(resumed, 10, interval=0.5)
    s.figure(f"rate counter and session copy in Redis again: {'NOT in 10 s' if took is None else f'{took:.1f} s'}")
    s.check(took is not None, "rate counters or session copies did not resume")
    return s


def inventory_down(stack):
    s = Scenario("inventory-down", "502/503 envelopes within the timeout while it is down, "
                                   "200 within 10 s of its return")
    down = 10 if LONG else 3
    sid = ready_session()
    with Traffic({"inventory": lambda: request("GET", "/api/inventory/ingredients", headers=as_session(sid)),
                  "inventory-2": lambda: request("GET", "/api/products", headers=as_session(sid))}) as traffic:
        time.sleep(1)
        t_down = traffic.now()
        stack.kill("inventory-service", signal.SIGKILL)
        time.sleep(down)
        stack.start("inventory-service")
        t_back = traffic.now()
        took = poll(lambda: request("GET", "/api/inventory/ingredients", headers=as_session(sid),
                                    timeout=5).status == 200, 10)
        time.sleep(1)
    res = traffic.results
    s.figure(f"inventory-service killed for {down} s; {len(res)} requests: {summarize(res)}")
    bad = [(n, t, a) for n, t, a in res if not (a.status == 200 or clean_refusal(a, {502, 503}))]
    s.figure(f"answers other than 200 or a 502/503 envelope in time: {len(bad)}"
             + "".join(f"\n        {n} at {t:.1f} s: {a.status} {a.error or a.body[:160]!r}"
                       for n, t, a in bad[:8]))
    s.check(not bad, "an answer was not 200 or a clean 502/503")
    during = [a for _, t, a in res if t_down + 0.2 <= t <= t_back]
    s.figure(f"while down: {summarize([(None, 0, a) for a in during])}, slowest "
             f"{max((a.elapsed for a in during), default=0):.2f} s; 200 again after "
             f"{'NOT in 10 s' if took is None else f'{took:.1f} s'}")
    s.check(took is not None, "inventory-service did not answer through the gateway within 10 s")
    return s


def make_sessions(n, concurrency=2):
    ids, failed = [], []
    lock = threading.Lock()
    todo = list(range(n))

    def worker():
        while True:
            with lock:
                if not todo:
                    return
                i = todo.pop()
            a = create_session(ACCOUNTS[i % 2], timeout=60)
            with lock:
                (ids.append(a.json()["session_id"]) if a.status == 201 else failed.append(a.status))

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if failed:
        raise RuntimeError(f"{len(failed)} creates failed: {failed[:10]}")
    return ids


def cleanup_race(stack):
    n = 1000 if LONG else 60
    s = Scenario("cleanup-race", f"three cleanup processes on the same {n} expired sessions: "
                                 "each removed exactly once, 0 orphan rows, 0 errors")
    t = time.monotonic()
    ids = make_sessions(n)
    s.figure(f"{n} sessions created in {time.monotonic() - t:.1f} s")
    quoted = ",".join(f"'{i}'" for i in ids)
    psql("demo_session", "UPDATE demo_sessions SET expires_at = now() - interval '1 minute' "
                         f"WHERE id IN ({quoted})")
    t = time.monotonic()
    procs = [subprocess.Popen([os.path.join(BIN, "demo-session"), "cleanup"], stdout=subprocess.PIPE,
                              stderr=open(os.path.join(LOGS, f"cleanup-{i}.log"), "wb"))
             for i in range(3)]
    outs = [p.communicate(timeout=600)[0] for p in procs]
    took = time.monotonic() - t
    reports = []
    for i, (p, out) in enumerate(zip(procs, outs)):
        s.check(p.returncode == 0, f"cleanup process {i} exited with {p.returncode}")
        try:
            reports.append(json.loads(out))
        except ValueError:
            s.check(False, f"cleanup process {i} printed no report")
    cleaned = [r["session_id"] for rep in reports for r in rep["cleaned"]]
    failures = sum(len(rep["failures"]) for rep in reports)
    s.figure(f"3 processes in {took:.1f} s: cleaned {' + '.join(str(len(rep['cleaned'])) for rep in reports)} "
             f"= {len(cleaned)} ({len(set(cleaned))} distinct), expired "
             f"{' + '.join(str(len(rep['expired'])) for rep in reports)}, failures {failures}")
    s.check(len(cleaned) == len(set(cleaned)), "a session was cleaned twice")
    s.check(set(ids) <= set(cleaned), "a session was not cleaned")
    s.check(failures == 0, "a cleanup failed")
    destroyed = int(psql("demo_session", f"SELECT count(*) FROM demo_sessions WHERE id IN ({quoted}) "
                                         "AND status = 'destroyed'"))
    s.figure(f"destroyed: {destroyed}/{n}")
    s.check(destroyed == n, "not every session is destroyed")
    orphans = orphan_rows()
    s.figure(f"orphan rows: {orphans}")
    s.check(sum(orphans.values()) == 0, "orphan rows left")
    return s


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def soak(stack):
    # the short form measures 60 s after a 60 s warm-up: the gateway's RSS climbs to its
    # plateau over its first few thousand requests (bounded caches filling, the allocator's
    # pages), and on a busy CI machine 30 s was not enough (39 -> 47 MiB, +18 %, while the
    # 10-minute run shows it flat at 44-46 MiB). 15 % there is a leak tripwire; the long
    # form holds every service to the goal's 10 %.
    seconds = 600 if LONG else 120
    warmup = 120 if LONG else 60
    tolerance = 0.10 if LONG else 0.15
    s = Scenario("soak", f"{seconds} s of mixed load: RSS of every service within "
                         f"{tolerance:.0%} of its value after a {warmup} s warm-up, 0 orphan rows, 0 5xx")
    # sessions of one minute (the shortest), expired and removed by the sweeper every 5 s;
    # in the short form, inventory's cached pages live 10 s instead of 60, so its cache
    # reaches its steady size within the warm-up
    restarted = {"demo-session": {"DEMO_SESSION_DURATION_MINUTES": "1", "CLEANUP_INTERVAL_SECONDS": "5"},
                 "inventory-service": {} if LONG else {"INVENTORY_CACHE_TTL_SECONDS": "10"}}
    for name, overrides in restarted.items():
        stack.kill(name, signal.SIGTERM)
        stack.start(name, **overrides)
        if stack.wait_ready(name) is None:
            raise RuntimeError(f"{name} not ready")
    live = []
    lock = threading.Lock()
    rng = __import__("random").Random(13)

    def pick():
        with lock:
            return rng.choice(live) if live else None

    def create():
        time.sleep(0.5)
        a = create_session(ACCOUNTS[rng.randrange(2)])
        if a.status == 201:
            sid = a.json()["session_id"]
            ing = request("GET", "/api/inventory/ingredients?limit=1", headers=as_session(sid)).json()
            items = ing.get("items") if isinstance(ing, dict) else ing
            with lock:
                live.append((sid, items[0]["id"] if items else None))
                del live[:-20]  # the newest 20 are used
        return a

    def read():
        p = pick()
        if p is None:
            time.sleep(0.1)
            return request("GET", "/api/demo/accounts")
        path = rng.choice(["/api/inventory/ingredients", "/api/products", "/api/tenants/me",
                           f"/api/demo/session/{p[0]}", "/api/sales", "/api/suppliers"])
        return request("GET", path, headers=as_session(p[0]))

    def write():
        time.sleep(0.2)
        p = pick()
        if p is None or p[1] is None:
            return request("GET", "/api/demo/accounts")
        return request("POST", "/api/inventory/adjustments",
                       {"ingredient_id": p[1], "quantity_delta": 1, "reason": "count_correction"},
                       headers=as_session(p[0]))

    def extend_or_end():
        time.sleep(2)
        p = pick()
        if p is None:
            return request("GET", "/api/demo/accounts")
        if rng.random() < 0.3:
            with lock:
                if p in live:
                    live.remove(p)
            return request("DELETE", f"/api/demo/session/{p[0]}", headers=as_session(p[0]))
        return request("POST", f"/api/demo/session/{p[0]}/extend", headers=as_session(p[0]))

    pids = {n: stack.pid(n) for n in PORTS}
    samples = []  # (t, {name: kib})
    with Traffic({"create": create, "read": read, "read-2": read, "write": write,
                  "extend-end": extend_or_end}, max_requests=100000, pause=0.01) as traffic:
        while traffic.now() < seconds:
            samples.append((traffic.now(), {n: rss_kib(pid) for n, pid in pids.items()}))
            time.sleep(1)
    res = traffic.results
    s.figure(f"{len(res)} requests: {summarize(res)}")
    by_kind = {}
    for n, _, a in res:
        by_kind.setdefault(n.split("-")[0] if n != "extend-end" else n, []).append(a)
    s.figure("; ".join(f"{k}: {summarize([(None, 0, a) for a in v])}" for k, v in by_kind.items()))
    fivexx = [(n, t, a) for n, t, a in res if a.status >= 500 or a.status == 0]
    s.figure(f"5xx or no answer: {len(fivexx)}" + "".join(
        f"\n        {n} at {t:.1f} s: {a.status} {a.error or a.body[:160]!r}" for n, t, a in fivexx[:8]))
    s.check(not fivexx, "a 5xx (or no answer)")
    # flat: the median of the last 10 samples (one a second) within 10 % of the median of
    # the 10 taken right after the warm-up; medians, so one sample's jitter (an allocator
    # keeping a freed arena a moment) is not growth. The peak is shown too.
    median = lambda xs: sorted(xs)[len(xs) // 2]
    after = [m for t, m in samples if t >= warmup]
    for name in PORTS:
        base = median([m[name] for m in after[:10]])
        end = median([m[name] for m in after[-10:]])
        peak = max(m[name] for m in after)
        s.figure(f"RSS {name}: {samples[0][1][name] / 1024:.1f} MiB at start, {base / 1024:.1f} MiB "
                 f"after warm-up ({warmup} s), {end / 1024:.1f} MiB at the end ({(end / base - 1) * 100:+.1f} %), "
                 f"peak {peak / 1024:.1f} MiB")
        s.check(end <= base * (1 + tolerance), f"{name}'s RSS grew more than {tolerance:.0%} after warm-up")
    report = cleanup_pass()
    statuses = rows("demo_session", "SELECT status || ' ' || count(*) FROM demo_sessions "
                                    "GROUP BY status ORDER BY status")
    s.figure(f"after one more cleanup pass ({len(report['cleaned'])} cleaned): sessions {', '.join(statuses)}")
    orphans = orphan_rows()
    s.figure(f"orphan rows: {orphans}")
    s.check(sum(orphans.values()) == 0, "orphan rows left")
    for name in restarted:
        stack.kill(name, signal.SIGTERM)
        stack.start(name)
        stack.wait_ready(name)
    return s


SCENARIOS = {
    "kill-clone": kill_clone,
    "pg-restart": pg_restart,
    "redis-outage": redis_outage,
    "inventory-down": inventory_down,
    "cleanup-race": cleanup_race,
    "soak": soak,
}


def main():
    names = sys.argv[1:] or list(SCENARIOS)
    unknown = [n for n in names if n not in SCENARIOS]
    if unknown:
        print(f"unknown scenario(s) {unknown}; known: {list(SCENARIOS)}", file=sys.stderr)
        return 2
    stack = Stack()

    def on_term(*_):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)
    done = []
    try:
        for name in PORTS:
            stack.start(name)
        for name in PORTS:
            if stack.wait_ready(name) is None:
                raise RuntimeError(f"{name} not ready (log: {LOGS}/{name}.log)")
        for name in names:
            log(f"scenario {name}")
            t = time.monotonic()
            s = SCENARIOS[name](stack)
            s.figure(f"took {time.monotonic() - t:.1f} s")
            done.append(s)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    finally:
        stack.stop_all()
    print()
    for s in done:
        mark = "ok  " if not s.misses else "FAIL"
        print(f"{mark} {s.name}: {s.goal}" + "".join(f"\n       missed: {m}" for m in s.misses))
    return 1 if any(s.misses for s in done) else 0


if __name__ == "__main__":
    sys.exit(main())
