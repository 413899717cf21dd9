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


def percentile(xs, p):
    s = sorted(xs)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]
