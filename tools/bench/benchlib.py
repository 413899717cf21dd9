"""Shared helpers for imgedge benchmarks: installing peers, building, starting a node, writing tables.

Benchmarks run on this machine's loopback only, are bounded in time, and never run as part of tools/test.
"""
import datetime, json, os, platform, re, shutil, signal, subprocess, sys, time, urllib.request

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BENCH_DOC = os.path.join(ROOT, "docs", "BENCHMARKS.md")


def sh(cmd, **kw):
    return subprocess.run(cmd, shell=isinstance(cmd, str), check=True, text=True, capture_output=True, **kw).stdout


def ensure_packages(*packages):
    """apt-get install the Debian packages that are missing (through sudo when not root)."""
    missing = [p for p in packages
               if "install ok installed" not in subprocess.run(["dpkg-query", "-W", "-f=${Status}", p],
                                                               capture_output=True, text=True).stdout]
    if not missing:
        return
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    print("[bench] installing", " ".join(missing), file=sys.stderr)
    subprocess.run(sudo + ["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(sudo + ["apt-get", "install", "-y", "-qq", "--no-install-recommends"] + missing, check=True, env=env,
                   stdout=subprocess.DEVNULL)


def build_release():
    print("[bench] swift build -c release", file=sys.stderr)
    subprocess.run(["bash", "-c", "source tools/lib/setup.sh && imgedge_build release"], cwd=ROOT, check=True)
    return os.path.join(ROOT, ".build", "release", "imgedge")


def machine():
    cpu = "unknown CPU"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{os.cpu_count()} cores ({cpu}), {mem:.0f} GiB, {platform.system()} {platform.release()}"


class Node:
    """An imgedge process on a config file; stopped with SIGTERM."""

    def __init__(self, binary, config, port, admin_port):
        self.port, self.admin_port = port, admin_port
        self.log = open(config + ".log", "w")
        self.proc = subprocess.Popen([binary, "serve", "--config", config, "--log-level", "warning"],
                                     stdout=self.log, stderr=self.log)
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{admin_port}/readyz", timeout=1).read()
                return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("imgedge did not become ready; see " + config + ".log")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.log.close()


def write_section(name, body):
    """Replaces (or appends) the section between <!-- bench:name --> markers in docs/BENCHMARKS.md."""
    os.makedirs(os.path.dirname(BENCH_DOC), exist_ok=True)
    text = open(BENCH_DOC).read() if os.path.exists(BENCH_DOC) else "# Benchmarks\n\n"
    start, end = f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"
    block = f"{start}\n{body.rstrip()}\n{end}"
    if start in text and end in text:
        text = text[:text.index(start)] + block + text[text.index(end) + len(end):]
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    open(BENCH_DOC, "w").write(text)
    print(f"[bench] wrote section {name} of {BENCH_DOC}", file=sys.stderr)


def stamp(command):
    return (f"Command: `{command}` — run {datetime.datetime.now().strftime('%Y-%m-%d %H:%M')} on "
            f"{machine()}.")


def median(xs):
    s = sorted(xs)
    n = len(s)
    return s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2


def spread(xs, fmt):
    """min / median / max of `xs`, each formatted with `fmt`: a table cell over a benchmark's rounds."""
    return " / ".join(fmt.format(x) for x in (min(xs), median(xs), max(xs)))


def nginx_worker_pids():
    """The running nginx workers (the processes doing its work)."""
    return [int(p) for p in subprocess.run(["pgrep", "-f", "nginx: worker"], capture_output=True, text=True).stdout.split()]


def percentile(xs, p):
    s = sorted(xs)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]


def package_file(package, name):
    """The path of the file called `name` that the installed Debian package ships (from `dpkg -L`)."""
    for line in sh(["dpkg", "-L", package]).splitlines():
        if os.path.basename(line) == name and os.path.isfile(line):
            return line
    raise RuntimeError(f"package {package} ships no file named {name}")


def vmhwm_mb(pid):
    """Peak resident set size (VmHWM) of a live process, in MB (10^6 bytes)."""
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024 / 1e6
    raise RuntimeError(f"no VmHWM for pid {pid}")


def child_pids(pid):
    """The live direct children of a process."""
    kids = []
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            kids += [int(p) for p in open(f"/proc/{pid}/task/{task}/children").read().split()]
        except OSError:
            pass
    return kids


def loadavg():
    return "load average " + ", ".join(f"{x:.2f}" for x in os.getloadavg())


def wait_for_quiet(max_load, max_wait):
    """Sleeps until the 1-minute load average is below max_load (other engineers' builds disturb timings), at
    most max_wait seconds. Returns the load average text at the end and whether the machine became quiet."""
    deadline = time.time() + max_wait
    while os.getloadavg()[0] >= max_load and time.time() < deadline:
        print(f"[bench] waiting for a quiet machine ({loadavg()}, want < {max_load})", file=sys.stderr)
        time.sleep(min(30, max(1, deadline - time.time())))
    return loadavg(), os.getloadavg()[0] < max_load


def busy_cores(window=2.0):
    """CPU the whole machine used over the next `window` seconds, in cores (from /proc/stat)."""
    def sample():
        with open("/proc/stat") as f:
            cpu = [int(x) for x in f.readline().split()[1:]]
        return sum(cpu) - cpu[3] - cpu[4]
    b0 = sample()
    time.sleep(window)
    return (sample() - b0) / os.sysconf("SC_CLK_TCK") / window


def wait_for_idle(max_cores=0.3, max_wait=60.0):
    """Before a measurement, with the benchmark's own servers idle: waits until the machine's other work uses
    less than max_cores (sampled over 2 s), at most max_wait seconds. Returns the last sample."""
    deadline = time.time() + max_wait
    while True:
        busy = busy_cores()
        if busy < max_cores or time.time() >= deadline:
            return busy
        print(f"[bench] other work uses {busy:.2f} cores; waiting", file=sys.stderr)


def _cpu_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def cpu_seconds(pids):
    """User + system CPU time the live processes have used so far, in seconds."""
    total = 0
    for p in pids:
        try:
            total += _cpu_ticks(p)
        except OSError:
            pass
    return total / os.sysconf("SC_CLK_TCK")


class ForeignCPU:
    """CPU used by processes other than `pids` (and this one) between start() and stop(), in cores: how much the
    machine's other work disturbed a measurement. The load average cannot tell, as it counts the benchmark too."""

    def __init__(self, pids):
        self.pids = [os.getpid()] + list(pids)

    def _sample(self):
        with open("/proc/stat") as f:
            cpu = [int(x) for x in f.readline().split()[1:]]
        busy = sum(cpu) - cpu[3] - cpu[4]  # all but idle and iowait
        ours = 0
        for p in self.pids:
            try:
                ours += _cpu_ticks(p)
            except OSError:
                pass
        return time.time(), busy, ours

    def start(self):
        self.t0, self.busy0, self.ours0 = self._sample()
        return self

    def stop(self):
        t1, busy1, ours1 = self._sample()
        hz = os.sysconf("SC_CLK_TCK")
        return max(0.0, ((busy1 - self.busy0) - (ours1 - self.ours0)) / hz / max(1e-9, t1 - self.t0))


def http_load(port, path_for, concurrency, duration, max_requests=100_000, check=None):
    """Closed-loop HTTP load on 127.0.0.1:port: `concurrency` threads, each sending GET path_for(i) on a new
    connection (`Connection: close`) as soon as its previous answer is read, until `duration` seconds have passed
    or max_requests were sent. `check(response, body)` returns an error text or None. Returns requests/s (answers
    completed over the wall time until the last one), the latencies in ms, and the error texts."""
    import http.client, itertools, threading
    counter = itertools.count()
    latencies, errors = [], []
    lock = threading.Lock()
    deadline = time.perf_counter() + duration

    def worker():
        while time.perf_counter() < deadline:
            i = next(counter)
            if i >= max_requests:
                return
            t0 = time.perf_counter()
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
                conn.request("GET", path_for(i), headers={"Connection": "close"})
                r = conn.getresponse()
                body = r.read()
                conn.close()
                err = f"HTTP {r.status}" if r.status != 200 else (check(r, body) if check else None)
            except OSError as e:
                err = f"{type(e).__name__}: {e}"
            ms = (time.perf_counter() - t0) * 1000
            with lock:
                (errors.append(err) if err else latencies.append(ms))

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(concurrency)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    return len(latencies) / elapsed, latencies, errors


def variant_near(fetch, target):
    """A JPEG variant of conf/demo/kimono.jpg (served as /photo.jpg) whose size is within a few percent of target
    bytes: bisection on width, then q. `fetch(path)` returns the body. Returns (path, body)."""
    best = None
    for q in (80, 95, 100):
        lo, hi = 16, 722
        while lo <= hi:
            w = (lo + hi) // 2
            body = fetch(f"/photo.jpg?w={w}&q={q}&fm=jpg")
            if best is None or abs(len(body) - target) < abs(len(best[1]) - target):
                best = (f"/photo.jpg?w={w}&q={q}&fm=jpg", body)
            if len(body) < target:
                lo = w + 1
            else:
                hi = w - 1
        if abs(len(best[1]) - target) <= target * 0.05:
            break
    return best

