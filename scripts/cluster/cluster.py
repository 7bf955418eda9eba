"""A local Huiyi cluster on one machine: for the fault drills and for anyone evaluating Huiyi.

    python -m scripts.cluster.cluster start [--dir DIR] [--app-workers 2]
    python -m scripts.cluster.cluster status [--dir DIR]
    python -m scripts.cluster.cluster stop [--dir DIR]

What runs (each "host" in its own network namespace with its own address on a private bridge, when
this machine allows ``ip netns``; else every process on 127.0.0.1, see ``isolation`` below):

    host   address      what
    mon    10.77.0.10   pg_auto_failover monitor (:55430), Redis Sentinel (:56371)
    db1    10.77.0.11   PostgreSQL node 1 under pg_autoctl (:55431), primary at start
    db2    10.77.0.12   PostgreSQL node 2 under pg_autoctl (:55432), synchronous standby at start
    red1   10.77.0.31   Redis (:56379), master at start; Redis Sentinel (:56381)
    red2   10.77.0.32   Redis (:56389), replica at start; Redis Sentinel (:56391)
    app1   10.77.0.21   gunicorn wsgi:app (:58001)
    app2   10.77.0.22   gunicorn wsgi:app (:58002)
    (the machine itself)  HAProxy on 127.0.0.1:58080, health checks on each app host's /readyz

The app reaches PostgreSQL with a libpq multi-host URL (``target_session_attrs=read-write``) and
Redis through the three Sentinels. Nothing here uses the machine's shared PostgreSQL (5432) or Redis
(6379): own ports, own data directories under ``--dir`` (default /tmp/huiyi-cluster), own processes,
all of them ended by ``stop`` (which also cleans up after a start that failed half-way).

The failover timings are tuned for a LAN (docs/operations.md explains each): the monitor checks
every node twice a second and calls a node unhealthy after about 1.5 s without an answer; a primary cut
off from the monitor and its standby demotes itself after 2 s (``network_partition_timeout``), and
the monitor waits 3 s for a lost primary's demotion before the standby takes writes
(``primary_demote_timeout``), so two primaries never take writes together.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from glob import glob
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DIR = Path(os.environ.get("HUIYI_CLUSTER_DIR", "/tmp/huiyi-cluster"))
NS_PREFIX = "hy20-"
BRIDGE = "hy20-br0"
SUBNET = "10.77.0"
PROXY_PORT = 58080
SENTINEL_MASTER = "huiyi"
DB_NAME = "huiyi"
#: The cluster's secrets: a local evaluation cluster, never production (which sets its own).
SECRET_KEY = "huiyi-local-cluster-secret-key-not-for-production"
#: The token the simulated WeChat of the drills and benchmarks signs its callbacks with.
WECHAT_TOKEN = "huiyibenchtoken"
DOOR_SIGNING_KEY = "aHVpeWktbG9jYWwtY2x1c3Rlci1kb29yLWtleS0zMmI="  # 32 bytes, base64

#: Monitor settings (pg_auto_failover's GUCs), milliseconds: see the module's docstring.
MONITOR_SETTINGS = {
    "pgautofailover.health_check_period": 500,
    "pgautofailover.health_check_timeout": 1000,
    "pgautofailover.health_check_max_retries": 1,
    "pgautofailover.health_check_retry_delay": 500,
    "pgautofailover.node_considered_unhealthy_timeout": 1500,
    "pgautofailover.primary_demote_timeout": 3000,
}
#: Keeper settings (pg_autoctl config set), seconds.
KEEPER_SETTINGS = {"timeout.network_partition_timeout": 2}


@dataclass(frozen=True)
class Host:
    name: str
    octet: int

    @property
    def ns(self) -> str:
        return NS_PREFIX + self.name

    @property
    def veth(self) -> str:
        return "hy20v-" + self.name


HOSTS = {h.name: h for h in (Host("mon", 10), Host("db1", 11), Host("db2", 12), Host("app1", 21), Host("app2", 22),
                             Host("red1", 31), Host("red2", 32))}
PG_PORTS = {"mon": 55430, "db1": 55431, "db2": 55432}
REDIS_PORTS = {"red1": 56379, "red2": 56389}
SENTINEL_PORTS = {"mon": 56371, "red1": 56381, "red2": 56391}
APP_PORTS = {"app1": 58001, "app2": 58002}


def say(text: str) -> None:
    print(text, flush=True)


def netns_available() -> bool:
    """True when we can make network namespaces (root, iproute2, a kernel that allows it)."""
    if os.geteuid() != 0 or shutil.which("ip") is None:
        return False
    probe = NS_PREFIX + "probe"
    ok = subprocess.run(["ip", "netns", "add", probe], capture_output=True).returncode == 0
    if ok:
        subprocess.run(["ip", "netns", "del", probe], capture_output=True)
    return ok


def pg_bin(name: str) -> str:
    found = sorted(glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if found:
        return found[-1]
    path = shutil.which(name)
    if path is None:
        raise RuntimeError(f"{name} not found (PostgreSQL's server binaries)")
    return path


def missing_binaries() -> list[str]:
    """What the cluster needs and this machine lacks (scripts/setup_system.sh --cluster installs it)."""
    missing = [b for b in ("pg_autoctl", "haproxy", "redis-server") if shutil.which(b) is None]
    try:
        pg_bin("pg_ctl")
    except RuntimeError:
        missing.append("pg_ctl")
    return missing


class Cluster:
    """The cluster under ``directory``; ``state.json`` there records what runs, for ``stop``."""

    def __init__(self, directory: Path = DEFAULT_DIR, *, isolation: str | None = None) -> None:
        self.dir = Path(directory)
        self.state_file = self.dir / "state.json"
        state = self._read_state()
        # Asked for (the environment variable tries the fallback), else what the running cluster uses,
        # else what this machine allows.
        self.requested = isolation or os.environ.get("HUIYI_CLUSTER_ISOLATION") or None
        self.isolation = state.get("isolation") or self.requested or ("netns" if netns_available() else "process")
        self.pids: dict[str, list[int]] = state.get("pids", {})
        self.app_workers = state.get("app_workers", 2)
        self.named: dict[str, int] = state.get("named", {})

    # --- addressing ------------------------------------------------------------------------------
    def ip(self, host: str) -> str:
        return f"{SUBNET}.{HOSTS[host].octet}" if self.isolation == "netns" else "127.0.0.1"

    @property
    def database_url(self) -> str:
        return self.database_url_from("db1")

    def database_url_from(self, first: str) -> str:
        """The app's URL with ``first`` tried first (a checker that connects once per check)."""
        hosts = ",".join(f"{self.ip(h)}:{PG_PORTS[h]}" for h in sorted(("db1", "db2"), key=lambda h: h != first))
        return f"postgresql://postgres@{hosts}/{DB_NAME}?target_session_attrs=read-write&connect_timeout=2"

    @property
    def sentinels(self) -> str:
        # In the order of docs/operations.md's hosts: the master's own machine first, so a drill that
        # loses that machine finds what the app's master lookup does when its first Sentinel is gone.
        order = ("red1", "red2", "mon")
        return ",".join(f"{self.ip(h)}:{SENTINEL_PORTS[h]}" for h in order)

    @property
    def proxy_url(self) -> str:
        return f"http://127.0.0.1:{PROXY_PORT}"

    def monitor_url(self) -> str:
        return f"postgresql://autoctl_node@{self.ip('mon')}:{PG_PORTS['mon']}/pg_auto_failover?sslmode=disable"

    def app_env(self, host: str | None = None) -> dict[str, str]:
        env = {**os.environ, "DATABASE_URL": self.database_url, "REDIS_SENTINELS": self.sentinels,
               "REDIS_SENTINEL_MASTER": SENTINEL_MASTER, "REDIS_URL": "", "SECRET_KEY": SECRET_KEY,
               "WECHAT_TOKEN": WECHAT_TOKEN, "WECHAT_ENCODING_AES_KEY": "", "DOOR_SIGNING_KEY": DOOR_SIGNING_KEY, "TRUST_PROXY": "1",
               "PUBLIC_BASE_URL": self.proxy_url, "STORAGE_DIR": str(self.dir / "storage"),
               "PYTHONPATH": str(ROOT)}
        if host is not None:
            env.update({"GUNICORN_BIND": f"{self.ip(host)}:{APP_PORTS[host]}",
                        "GUNICORN_WORKERS": str(self.app_workers), "GUNICORN_ACCESS_LOG": "/dev/null"})
        return env

    # --- state -----------------------------------------------------------------------------------
    def _read_state(self) -> dict:
        try:
            return json.loads(self.state_file.read_text())
        except (OSError, ValueError):
            return {}

    def _save(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        self.state_file.write_text(json.dumps({"isolation": self.isolation, "pids": self.pids, "named": self.named,
                                               "app_workers": self.app_workers}, indent=1))

    # --- running things on a host ----------------------------------------------------------------
    def on(self, host: str, argv: list[str], *, user: str | None = None) -> list[str]:
        prefix = ["ip", "netns", "exec", HOSTS[host].ns] if self.isolation == "netns" and host in HOSTS else []
        as_user = ["runuser", "-u", user, "--"] if user and os.geteuid() == 0 else []
        return [*prefix, *as_user, *argv]

    def spawn(self, host: str, name: str, argv: list[str], *, user: str | None = None,
              env: dict[str, str] | None = None) -> subprocess.Popen:
        log = open(self.dir / f"{host}-{name}.log", "ab")  # noqa: SIM115 - the child keeps it
        proc = subprocess.Popen(self.on(host, argv, user=user), stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, env=env, start_new_session=True, cwd=ROOT)
        log.close()
        self.pids.setdefault(host, []).append(proc.pid)
        self.named[f"{host}/{name}"] = proc.pid
        self._save()
        return proc

    def kill_process(self, host: str, name: str) -> None:
        """SIGKILL one service of a host (with what it started), e.g. ``("red1", "redis")``."""
        pid = self.named.get(f"{host}/{name}")
        if pid is not None:
            _kill_group(pid, _PROGRAM[name])

    def block(self, hosts: list[str], targets: list[str]) -> None:
        """Packets from ``hosts`` to ``targets`` are dropped (a route to nowhere on each host), as
        when the link between them fails; everything else still flows."""
        for host in hosts:
            for target in targets:
                self.run(host, ["ip", "route", "add", "blackhole", f"{self.ip(target)}/32"])

    def unblock(self, hosts: list[str], targets: list[str]) -> None:
        for host in hosts:
            for target in targets:
                self.run(host, ["ip", "route", "del", "blackhole", f"{self.ip(target)}/32"], check=False)

    def run(self, host: str, argv: list[str], *, user: str | None = None, env: dict[str, str] | None = None,
            check: bool = True) -> subprocess.CompletedProcess:
        r = subprocess.run(self.on(host, argv, user=user), capture_output=True, text=True, env=env, cwd=ROOT)
        if check and r.returncode != 0:
            raise RuntimeError(f"{' '.join(argv[:6])}... failed on {host}:\n{(r.stderr or r.stdout)[-2000:]}")
        return r

    def host_pids(self, host: str) -> list[int]:
        """Every process of ``host``: all of its namespace's (netns), else the process groups started."""
        if self.isolation == "netns":
            out = subprocess.run(["ip", "netns", "pids", HOSTS[host].ns], capture_output=True, text=True).stdout
            return [int(p) for p in out.split()]
        pids = []
        for leader in self.pids.get(host, []):
            out = subprocess.run(["pgrep", "-g", str(leader)], capture_output=True, text=True).stdout
            pids += [int(p) for p in out.split()]
        return pids

    def kill_host(self, host: str) -> None:
        """The host dies: SIGKILL to all of its processes (as a power loss, nothing is flushed)."""
        for _ in range(3):  # a supervisor may fork a child in the meantime
            pids = self.host_pids(host)
            if host in PG_PORTS and self.isolation != "netns":  # a postmaster may have left the group
                pids += self._postmaster(host)
            if not pids:
                break
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            time.sleep(0.1)

    def _postmaster(self, host: str) -> list[int]:
        """The postmaster of ``host``'s data directory, if it runs (a stale pid file's number may
        belong to another process by now: only a postgres process counts)."""
        try:
            pid = int((self.pgdata(host) / "postmaster.pid").read_text().split()[0])
            return [pid] if b"postgres" in Path(f"/proc/{pid}/cmdline").read_bytes() else []
        except (OSError, ValueError, IndexError):
            return []

    def cut(self, host: str) -> None:
        """The host's network cable pulled: its end of the link goes down; packets to it are lost."""
        if self.isolation == "netns":
            subprocess.run(["ip", "link", "set", HOSTS[host].veth, "down"], check=True)

    def uncut(self, host: str) -> None:
        if self.isolation == "netns":
            subprocess.run(["ip", "link", "set", HOSTS[host].veth, "up"], check=True)

    # --- start -------------------------------------------------------------------------------------
    def start(self, app_workers: int = 2) -> None:
        missing = missing_binaries()
        if missing:
            raise RuntimeError(f"missing: {', '.join(missing)} (run: bash scripts/setup_system.sh --cluster)")
        # What an earlier run left (its state, or namespaces of a run killed before it saved any).
        self.stop(quiet=True)
        self.isolation = self.requested or ("netns" if netns_available() else "process")
        self.app_workers = app_workers
        self.dir.mkdir(parents=True, exist_ok=True)
        for sub in ("home", "storage"):
            (self.dir / sub).mkdir(exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres")
            shutil.chown(self.dir / "home", "postgres")
        self._save()
        say(f"cluster in {self.dir} ({self.isolation} isolation)")
        t0 = time.monotonic()
        if self.isolation == "netns":
            self._network()
        self._redis()  # (it comes up while PostgreSQL does; waited for below)
        self._monitor()
        self._node("db1")
        self._wait_states({"db1": ("single",)}, 120)
        say(f"    {time.monotonic() - t0:.1f} s")
        self._node("db2")
        self._wait_redis()
        self._migrate()  # on db1 while db2 joins: a synchronous standby only counts once it has caught up
        for host in APP_PORTS:
            self._app(host)
        self._proxy()
        self._wait_states({"db1": ("primary",), "db2": ("secondary",)}, 180)
        say(f"    {time.monotonic() - t0:.1f} s")
        for host in APP_PORTS:
            wait_http(f"http://{self.ip(host)}:{APP_PORTS[host]}/readyz", 120)
        wait_http(self.proxy_url + "/readyz", 60)
        say(f"cluster up in {time.monotonic() - t0:.1f} s: {self.proxy_url}")

    def _network(self) -> None:
        sh = lambda *a: subprocess.run(list(a), check=True, capture_output=True)  # noqa: E731
        sh("ip", "link", "add", BRIDGE, "type", "bridge")
        sh("ip", "addr", "add", f"{SUBNET}.1/24", "dev", BRIDGE)
        sh("ip", "link", "set", BRIDGE, "up")
        for h in HOSTS.values():
            sh("ip", "netns", "add", h.ns)
            sh("ip", "link", "add", h.veth, "type", "veth", "peer", "name", "eth0", "netns", h.ns)
            sh("ip", "link", "set", h.veth, "master", BRIDGE, "up")
            sh("ip", "netns", "exec", h.ns, "ip", "addr", "add", f"{SUBNET}.{h.octet}/24", "dev", "eth0")
            sh("ip", "netns", "exec", h.ns, "ip", "link", "set", "eth0", "up")
            sh("ip", "netns", "exec", h.ns, "ip", "link", "set", "lo", "up")

    def _autoctl_env(self, host: str) -> list[str]:
        home = self.dir / "home" / host
        home.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(home, "postgres")
        return ["env", f"HOME={home}", f"XDG_CONFIG_HOME={home}/config", f"XDG_DATA_HOME={home}/data",
                "PG_AUTOCTL_DEBUG=0"]

    def pgdata(self, host: str) -> Path:
        return self.dir / host / "pgdata"

    def _prepare(self, host: str) -> None:
        d = self.dir / host
        d.mkdir(exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(d, "postgres")

    def _monitor(self) -> None:
        self._prepare("mon")
        say("  pg_auto_failover monitor on mon")
        self.run("mon", [*self._autoctl_env("mon"), "pg_autoctl", "create", "monitor", "--pgctl", pg_bin("pg_ctl"),
                         "--pgdata", str(self.pgdata("mon")), "--pgport", str(PG_PORTS["mon"]),
                         "--hostname", self.ip("mon"), "--auth", "trust", "--no-ssl"], user="postgres")
        self._open_hba("mon", reload=False)
        with open(self.pgdata("mon") / "postgresql.auto.conf", "a") as f:
            f.writelines(f"{k} = {v}\n" for k, v in MONITOR_SETTINGS.items())
        self.spawn("mon", "monitor", [*self._autoctl_env("mon"), "pg_autoctl", "run", "--pgdata",
                                      str(self.pgdata("mon"))], user="postgres")
        wait_until(lambda: self.monitor_sql("SELECT 1") == "1", 60, "the monitor")

    def _node(self, host: str) -> None:
        self._prepare(host)
        say(f"  PostgreSQL node {host}")
        env = self._autoctl_env(host)
        self.run(host, [*env, "pg_autoctl", "create", "postgres", "--pgctl", pg_bin("pg_ctl"),
                        "--pgdata", str(self.pgdata(host)), "--pgport", str(PG_PORTS[host]),
                        "--hostname", self.ip(host), "--name", host, "--dbname", DB_NAME,
                        "--monitor", self.monitor_url(), "--auth", "trust", "--no-ssl"], user="postgres")
        if host == "db1":
            self._open_hba(host)
        for key, value in KEEPER_SETTINGS.items():
            self.run(host, [*env, "pg_autoctl", "config", "set", "--pgdata", str(self.pgdata(host)), key, str(value)],
                     user="postgres")
        self.spawn(host, "keeper", [*env, "pg_autoctl", "run", "--pgdata", str(self.pgdata(host))], user="postgres")

    def restart_node(self, host: str) -> None:
        """Bring a node's host back (after :meth:`kill_host`): pg_autoctl rejoins it as a standby."""
        self.uncut(host)
        self.spawn(host, "keeper", [*self._autoctl_env(host), "pg_autoctl", "run", "--pgdata",
                                    str(self.pgdata(host))], user="postgres")

    def _open_hba(self, host: str, reload: bool = True) -> None:
        """Let the app hosts (and the drills, from the machine itself) in; a standby's base backup
        copies these lines with the rest of the primary's data directory."""
        net = f"{SUBNET}.0/24" if self.isolation == "netns" else "127.0.0.1/32"
        with open(self.pgdata(host) / "pg_hba.conf", "a") as f:
            f.write(f"\n# huiyi cluster: app hosts and drills\nhost all all {net} trust\n"
                    "host all all 127.0.0.1/32 trust\n")
        if reload:  # when it runs already
            self.run(host, [pg_bin("pg_ctl"), "reload", "-D", str(self.pgdata(host))], user="postgres", check=False)

    def monitor_sql(self, sql: str) -> str | None:
        r = self.run("mon", [pg_bin("psql"), "-h", self.ip("mon"), "-p", str(PG_PORTS["mon"]), "-U", "autoctl_node",
                             "-d", "pg_auto_failover", "-Atqc", sql], check=False)
        return r.stdout.strip() if r.returncode == 0 else None

    def node_states(self) -> dict[str, tuple[str, str]]:
        """name -> (reported state, goal state), from the monitor."""
        out = self.monitor_sql("SELECT nodename, reportedstate, goalstate FROM pgautofailover.node") or ""
        return {n: (r, g) for n, r, g in (line.split("|") for line in out.splitlines() if line.count("|") == 2)}

    def _wait_states(self, wanted: dict[str, tuple[str, ...]], timeout: float) -> None:
        def ok() -> bool:
            states = self.node_states()
            return all(states.get(n, ("", ""))[0] in s and states[n][0] == states[n][1] for n, s in wanted.items())
        wait_until(ok, timeout, f"PostgreSQL nodes {wanted}", lambda: str(self.node_states()))

    def _redis(self) -> None:
        say("  Redis master on red1, replica on red2, three Sentinels")
        for host, port in REDIS_PORTS.items():
            d = self.dir / host
            d.mkdir(exist_ok=True)
            argv = ["redis-server", "--port", str(port), "--bind", self.ip(host), "--protected-mode", "no",
                    "--save", "", "--appendonly", "no", "--dir", str(d), "--daemonize", "no",
                    "--replica-announce-ip", self.ip(host)]
            if host != "red1":
                argv += ["--replicaof", self.ip("red1"), str(REDIS_PORTS["red1"])]
            self.spawn(host, "redis", argv)
        sentinel = shutil.which("redis-sentinel")
        for host, port in SENTINEL_PORTS.items():
            d = self.dir / host
            d.mkdir(exist_ok=True)
            conf = d / "sentinel.conf"
            conf.write_text(
                f"port {port}\nbind {self.ip(host)}\nprotected-mode no\ndaemonize no\ndir {d}\n"
                f"sentinel announce-ip {self.ip(host)}\n"
                f"sentinel monitor {SENTINEL_MASTER} {self.ip('red1')} {REDIS_PORTS['red1']} 2\n"
                f"sentinel down-after-milliseconds {SENTINEL_MASTER} 1000\n"
                f"sentinel failover-timeout {SENTINEL_MASTER} 5000\n"
                f"sentinel parallel-syncs {SENTINEL_MASTER} 1\n")
            argv = [sentinel, str(conf)] if sentinel else ["redis-server", str(conf), "--sentinel"]
            self.spawn(host, "sentinel", argv)

    def _wait_redis(self) -> None:
        def replicated() -> bool:
            r = self.run("red2", ["redis-cli", "-h", self.ip("red2"), "-p", str(REDIS_PORTS["red2"]), "info",
                                  "replication"], check=False)
            return "master_link_status:up" in r.stdout
        wait_until(replicated, 30, "the Redis replica")
        wait_until(lambda: self.redis_master() is not None, 30, "the Sentinels")

    def redis_master(self) -> tuple[str, int] | None:
        for host, port in SENTINEL_PORTS.items():
            r = self.run(host, ["redis-cli", "-h", self.ip(host), "-p", str(port), "sentinel",
                                "get-master-addr-by-name", SENTINEL_MASTER], check=False)
            parts = r.stdout.split()
            if r.returncode == 0 and len(parts) == 2:
                return parts[0], int(parts[1])
        return None

    def _migrate(self) -> None:
        say("  migrations (flask db upgrade)")
        r = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"], env=self.app_env(),
                           cwd=ROOT, capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"migrations failed:\n{r.stderr[-3000:]}")

    def start_app(self, host: str) -> None:
        """(Re)start an app host's gunicorn, e.g. after :meth:`kill_host`."""
        self._app(host)

    def app_ready(self, host: str) -> bool:
        try:
            with urllib.request.urlopen(f"http://{self.ip(host)}:{APP_PORTS[host]}/readyz", timeout=2) as r:
                return r.status == 200
        except Exception:
            return False

    def _app(self, host: str) -> None:
        say(f"  gunicorn on {host} ({self.app_workers} gevent workers)")
        gunicorn = str(Path(sys.executable).parent / "gunicorn")
        self.spawn(host, "gunicorn", [gunicorn, "-c", str(ROOT / "gunicorn.conf.py"), "wsgi:app"],
                   env=self.app_env(host))

    def proxy_config(self) -> str:
        servers = "".join(f"  server {h} {self.ip(h)}:{p} check\n" for h, p in APP_PORTS.items())
        # The same hosts again as backups: when every /readyz fails at once (the database failing
        # over), the door still answers -- truthfully, "not confirmed" or "busy" -- instead of
        # HAProxy's 503; only a host whose process answers /healthz (backend live), not a lost one.
        backups = "".join(f"  server {h}-open {self.ip(h)}:{p} backup track live/{h}\n" for h, p in APP_PORTS.items())
        checks = "  default-server inter 1s fastinter 500ms downinter 1s fall 2 rise 2\n"
        tracked = "".join(f"  server {h} {self.ip(h)}:{p} track apps/{h}\n" for h, p in APP_PORTS.items())
        return (
            "global\n  maxconn 4000\n  log stdout format raw local0\n"
            f"  stats socket {self.dir}/haproxy.sock mode 600 level admin\n"
            "defaults\n  mode http\n  log global\n  option httplog\n  timeout connect 1s\n  timeout client 75s\n  timeout server 75s\n"
            "  timeout tunnel 1h\n  timeout http-keep-alive 10s\n  retries 2\n  option redispatch 1\n"
            # A request that never reached an app host is sent to the other one.
            "  retry-on conn-failure empty-response\n  option http-server-close\n"
            f"frontend huiyi\n  bind 127.0.0.1:{PROXY_PORT}\n  option forwardfor\n"
            # When HAProxy received the request, and WeChat's callbacks to their own backend (below).
            "  http-request set-header X-Request-Start t=%[date(0,ms)]\n"
            "  use_backend door if { path /wechat/callback }\n  default_backend apps\n"
            "backend apps\n  balance roundrobin\n  option allbackups\n"
            "  option httpchk GET /readyz\n  http-check expect status 200\n"
            # (No shutdown-sessions when a host is marked down: a failing /readyz during a database
            # failover would cut the scans in flight; a dead host's connections end by themselves.)
            f"{checks}{servers}{backups}"
            # An app host silent for 3.5 s on a callback (its machine lost mid-request) is given up and
            # the callback sent to the other, which answers by 4.3 s after HAProxy got it (deploy/haproxy).
            "backend door\n  balance roundrobin\n  option allbackups\n  timeout server 3500ms\n"
            "  retry-on conn-failure empty-response response-timeout\n"
            f"{tracked}{backups}"
            "backend live\n  option httpchk GET /healthz\n  http-check expect status 200\n"
            f"{checks}{servers}")

    def _proxy(self) -> None:
        say(f"  HAProxy on 127.0.0.1:{PROXY_PORT}")
        conf = self.dir / "haproxy.cfg"
        conf.write_text(self.proxy_config())
        self.spawn("proxy", "haproxy", ["haproxy", "-db", "-f", str(conf)])

    # --- stop --------------------------------------------------------------------------------------
    def stop(self, quiet: bool = False, keep: bool = False) -> None:
        if not quiet:
            say(f"stopping the cluster in {self.dir}")
        for leader in self.pids.get("proxy", []):
            _kill_group(leader, "haproxy")
        if self.isolation == "netns":
            for h in HOSTS.values():
                if subprocess.run(["ip", "netns", "pids", h.ns], capture_output=True).returncode == 0:
                    self.kill_host(h.name)
                    subprocess.run(["ip", "netns", "del", h.ns], capture_output=True)
                subprocess.run(["ip", "link", "del", h.veth], capture_output=True)
            subprocess.run(["ip", "link", "del", BRIDGE], capture_output=True)
        for key, leader in self.named.items():  # (process isolation; in namespaces they are gone)
            _kill_group(leader, _PROGRAM[key.rpartition("/")[2]])
        for host in PG_PORTS:  # a postmaster that outlived its group (process isolation)
            for pid in self._postmaster(host):
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
        self.pids, self.named = {}, {}
        if keep:
            self._save()
        else:
            shutil.rmtree(self.dir, ignore_errors=True)

    # --- status ------------------------------------------------------------------------------------
    def status(self) -> dict:
        def ready(url: str) -> str:
            try:
                with urllib.request.urlopen(url, timeout=2) as r:
                    return f"{r.status}"
            except Exception as exc:
                return f"down ({type(exc).__name__})"
        return {
            "dir": str(self.dir), "isolation": self.isolation,
            "postgres": self.node_states(),
            "redis_master": self.redis_master(),
            "apps": {h: ready(f"http://{self.ip(h)}:{p}/readyz") for h, p in APP_PORTS.items()},
            "proxy": ready(self.proxy_url + "/readyz"),
            "DATABASE_URL": self.database_url, "REDIS_SENTINELS": self.sentinels,
        }


#: What each service's process runs: a pid in the state file is only killed while it still runs
#: that (after a crash or a reboot the number may belong to someone else's process).
_PROGRAM = {"monitor": "pg_autoctl", "keeper": "pg_autoctl", "redis": "redis", "sentinel": "redis",
            "gunicorn": "gunicorn", "haproxy": "haproxy"}


def _kill_group(pid: int, program: str) -> None:
    try:
        if program.encode() not in Path(f"/proc/{pid}/cmdline").read_bytes():
            return
        os.killpg(pid, signal.SIGKILL)
    except (OSError, ProcessLookupError, PermissionError):
        pass


def wait_until(check, timeout: float, what: str, detail=lambda: "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except Exception:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"timed out after {timeout:g} s waiting for {what} {detail()}")


def wait_http(url: str, timeout: float) -> None:
    def ok() -> bool:
        with urllib.request.urlopen(url, timeout=2) as r:
            return r.status == 200
    wait_until(ok, timeout, url)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="A local Huiyi cluster (HA PostgreSQL, Redis Sentinel, 2 app hosts, "
                                            "HAProxy) on one machine")
    p.add_argument("action", choices=("start", "stop", "status"))
    p.add_argument("--dir", type=Path, default=DEFAULT_DIR)
    p.add_argument("--app-workers", type=int, default=2, help="gunicorn workers per app host")
    p.add_argument("--isolation", choices=("netns", "process"), help="default: netns when this machine allows it")
    a = p.parse_args(argv)
    cluster = Cluster(a.dir, isolation=a.isolation)
    if a.action == "start":
        try:
            cluster.start(a.app_workers)
        except BaseException:
            say(f"start failed; logs in {cluster.dir}/*.log; stopping what started")
            cluster.stop(quiet=True, keep=True)
            raise
        say(json.dumps(cluster.status(), ensure_ascii=False, indent=1))
    elif a.action == "stop":
        cluster.stop()
    else:
        say(json.dumps(cluster.status(), ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
