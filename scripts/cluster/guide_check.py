"""Follow the operator's guide (docs/operations.md) on fresh Debian 12 machines and check the cluster it
builds: the proof that the guide, followed as written, brings up the two-app-host cluster.

    sudo .venv/bin/python -m scripts.cluster.guide_check            # ~15 min cold, ~6-7 min with warm caches
    sudo .venv/bin/python -m scripts.cluster.guide_check --keep     # leave the machines running afterwards
    sudo .venv/bin/python -m scripts.cluster.guide_check --down     # tear down what --keep left

Not part of ``make test``: it downloads Debian packages and the Python dependencies.

The machines: ``debootstrap`` makes one minimal bookworm root file system (cached in
/var/tmp/huiyi-guide/cache), copied per machine and booted with ``systemd-nspawn --boot`` (systemd is
PID 1 inside, so the guide's ``systemctl`` and unit files run for real) on a private bridge with NAT to
reach Debian's mirror and PyPI. Three machines carry the guide's roles at the guide's own addresses:

    hy-mon  10.0.0.10                        monitor (pg_auto_failover), the third Sentinel, HAProxy
    hy-h1   10.0.0.11 10.0.0.21 10.0.0.31   db1, Redis master, app1
    hy-h2   10.0.0.12 10.0.0.22 10.0.0.32   db2, Redis replica, app2

so that killing hy-h1 loses a whole host: the PostgreSQL primary, the Redis master and an app host.

What runs inside is the guide's text: every fenced ``bash`` block preceded by a marker comment
``<!-- host: db1,db2 -->`` is run, in the guide's order, on the machines holding those roles (as root,
``bash -e``). ``<!-- operator: NAME -->`` marks a manual step (filling in /etc/huiyi/huiyi.env); the check
does it the way the guide's text describes and prints what it did. Placeholders in angle brackets
(``<仓库地址>``, ``<应用数据库密码>``) are replaced by the values printed at the start. The code comes from
a ``git clone`` of this checkout's HEAD (or --commit) copied into each machine (GitHub is not reachable
here), and the guide followed is that commit's too.

Then it checks: /readyz of both app hosts through HAProxy, a signed WeChat scan acknowledged and present
on both PostgreSQL nodes, ``pg_autoctl show state``, Sentinel's master; then kills hy-h1 (SIGKILL to its
init: power lost), times the first scan acknowledged afterwards and checks every answer against db2;
then boots hy-h1 again and checks that it rejoins by itself. Everything it made (machines,
bridge, NAT rule, directories) is removed at the end, also on failure, unless --keep.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import secrets
import shutil
import signal
import ssl
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WORK = Path(os.environ.get("HUIYI_GUIDE_DIR", "/var/tmp/huiyi-guide"))
CACHE = WORK / "cache"
MACHINES_DIR = WORK / "machines"
STATE = WORK / "state.json"
BRIDGE = "hyguide0"
GATEWAY = "10.0.0.1"
NFT_TABLE = "huiyi_guide"
MIRROR = "http://deb.debian.org/debian"
GUIDE = "docs/operations.md"
WECHAT_TOKEN = "huiyibenchtoken"  # what the drills' simulated WeChat signs with (scripts/bench)


@dataclass
class Machine:
    name: str
    addresses: list[str]
    roles: list[str]
    process: subprocess.Popen | None = None
    leader: int = 0

    @property
    def root(self) -> Path:
        return MACHINES_DIR / self.name


MACHINES = [
    Machine("hy-mon", ["10.0.0.10"], ["monitor", "sentinel3", "proxy"]),
    Machine("hy-h1", ["10.0.0.11", "10.0.0.21", "10.0.0.31"], ["db1", "redis1", "app1"]),
    Machine("hy-h2", ["10.0.0.12", "10.0.0.22", "10.0.0.32"], ["db2", "redis2", "app2"]),
]
BY_NAME = {m.name: m for m in MACHINES}


@dataclass
class Step:
    hosts: list[str]  # roles
    code: str = ""
    operator: str = ""  # a manual step's name
    heading: str = ""
    line: int = 0


@dataclass
class Run:
    t0: float = field(default_factory=time.perf_counter)
    timings: list[tuple[str, float]] = field(default_factory=list)
    password: str = field(default_factory=lambda: "hy-" + secrets.token_hex(12))
    secret_key: str = field(default_factory=lambda: secrets.token_urlsafe(48))  # the same on every app host

    def elapsed(self) -> float:
        return time.perf_counter() - self.t0


def say(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", flush=True)


def sh(*args: str, check: bool = True, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(args, check=check, **kw)


# --- the guide -----------------------------------------------------------------------------------

MARKER = re.compile(r"^<!--\s*(host|operator):\s*([^>]*?)\s*-->\s*$")


def parse_guide(text: str) -> list[Step]:
    """The guide's runnable steps, in order: a ``host`` marker followed by a fenced bash block, or an
    ``operator`` marker (a manual step)."""
    steps: list[Step] = []
    lines = text.splitlines()
    heading = ""
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("#"):
            heading = line.lstrip("# ").strip()
        m = MARKER.match(line.strip())
        if m and m.group(1) == "operator":
            steps.append(Step([], operator=m.group(2), heading=heading, line=i + 1))
        elif m:
            roles = [r.strip() for r in m.group(2).split(",") if r.strip()]
            j = i + 1
            if j >= len(lines) or lines[j].strip() != "```bash":
                raise SystemExit(f"{GUIDE}:{i + 1}: a host marker must be followed by a ```bash block")
            end = lines.index("```", j + 1)
            steps.append(Step(roles, "\n".join(lines[j + 1:end]) + "\n", heading=heading, line=i + 1))
            i = end
        i += 1
    return steps


def machines_for(roles: list[str]) -> list[Machine]:
    found = [m for m in MACHINES if any(r in m.roles for r in roles)]
    unknown = [r for r in roles if not any(r in m.roles for m in MACHINES)]
    if unknown:
        raise SystemExit(f"unknown roles in the guide's marker: {unknown}")
    # In the order the marker names them (db1 before db2).
    return sorted(found, key=lambda m: min(roles.index(r) for r in m.roles if r in roles))


# --- the machines --------------------------------------------------------------------------------

def ensure_tools() -> None:
    missing = [t for t in ("debootstrap", "systemd-nspawn", "nft", "nsenter", "git") if shutil.which(t) is None]
    if missing:
        say(f"installing {', '.join(missing)} (apt)")
        sh("apt-get", "install", "-y", "-q", "debootstrap", "systemd-container", "nftables",
           env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"}, stdout=subprocess.DEVNULL)


def base_rootfs() -> Path:
    rootfs = CACHE / "rootfs"
    if not rootfs.exists():
        tmp = CACHE / "rootfs.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        CACHE.mkdir(parents=True, exist_ok=True)
        say(f"debootstrap bookworm into {rootfs} (once; cached)")
        sh("debootstrap", "--include=dbus", "bookworm", str(tmp), MIRROR, stdout=subprocess.DEVNULL)
        tmp.rename(rootfs)
    return rootfs


def network_up(state: dict) -> None:
    state["ip_forward"] = Path("/proc/sys/net/ipv4/ip_forward").read_text().strip()
    save_state(state)
    sh("ip", "link", "add", BRIDGE, "type", "bridge")
    sh("ip", "addr", "add", f"{GATEWAY}/24", "dev", BRIDGE)
    sh("ip", "link", "set", BRIDGE, "up")
    uplink = subprocess.run(["ip", "-o", "route", "show", "default"], capture_output=True, text=True).stdout.split()
    out = uplink[uplink.index("dev") + 1]
    sh("nft", "add", "table", "ip", NFT_TABLE)
    sh("nft", f"add chain ip {NFT_TABLE} post {{ type nat hook postrouting priority 100 ; }}")
    sh("nft", "add", "rule", "ip", NFT_TABLE, "post", "ip", "saddr", "10.0.0.0/24", "oifname", out, "masquerade")
    Path("/proc/sys/net/ipv4/ip_forward").write_text("1\n")


def provision(m: Machine, rootfs: Path, clone: Path) -> None:
    sh("cp", "-a", str(rootfs), str(m.root))
    etc = m.root / "etc"
    (etc / "hostname").write_text(m.name + "\n")
    (etc / "hosts").write_text(f"127.0.0.1 localhost\n{m.addresses[0]} {m.name}\n")
    (etc / "resolv.conf").unlink(missing_ok=True)
    nameservers = [ln for ln in Path("/etc/resolv.conf").read_text().splitlines() if ln.startswith("nameserver")]
    (etc / "resolv.conf").write_text("\n".join(nameservers) + "\n")
    extra = "".join(f"  up ip addr add {a}/24 dev host0\n" for a in m.addresses[1:])
    (etc / "network" / "interfaces").write_text(
        "auto lo\niface lo inet loopback\n\n"
        f"auto host0\niface host0 inet static\n  address {m.addresses[0]}/24\n  gateway {GATEWAY}\n{extra}")
    (etc / "apt" / "sources.list").write_text(
        f"deb {MIRROR} bookworm main\ndeb {MIRROR} bookworm-updates main\n"
        "deb http://deb.debian.org/debian-security bookworm-security main\n")
    # This site's network: HTTPS leaves through a TLS-inspecting egress whose CA the machine must trust
    # (pip does not read the system store by itself). A site setting like the mirror, not the guide's.
    cas = sorted(Path("/usr/local/share/ca-certificates").glob("*.crt"))
    if cas:
        (m.root / "usr/local/share/ca-certificates").mkdir(parents=True, exist_ok=True)
        for ca in cas:
            shutil.copy(ca, m.root / "usr/local/share/ca-certificates" / ca.name)
        (etc / "pip.conf").write_text("[global]\ncert = /etc/ssl/certs/ca-certificates.crt\n")
    # The repository, as an operator's `git clone` would fetch it (GitHub is not reachable here).
    sh("cp", "-a", str(clone), str(m.root / "srv" / "huiyi.git"))


def boot(m: Machine) -> None:
    (CACHE / "apt").mkdir(parents=True, exist_ok=True)
    (CACHE / "pip").mkdir(parents=True, exist_ok=True)
    log = open(WORK / f"{m.name}.console.log", "ab")
    m.leader = 0  # a machine booted again has a new init
    # --keep-unit/--register=no: this container's PID 1 is not systemd, so there is no host bus to
    # register with; the machine's own systemd runs fine without it.
    m.process = subprocess.Popen(
        ["systemd-nspawn", "--boot", "--keep-unit", "--register=no", "--console=passive", f"--machine={m.name}",
         "-D", str(m.root), f"--network-bridge={BRIDGE}",
         # Shared download caches only (packages and wheels are still fetched and installed per machine).
         f"--bind={CACHE / 'apt'}:/var/cache/apt/archives", f"--bind={CACHE / 'pip'}:/root/.cache/pip"],
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.time() + 60
    while time.time() < deadline and not m.leader:
        children = Path(f"/proc/{m.process.pid}/task/{m.process.pid}/children")
        if children.exists() and children.read_text().split():
            m.leader = int(children.read_text().split()[0])
        time.sleep(0.2)
    if not m.leader:
        raise RuntimeError(f"{m.name} did not start (see {log.name})")
    while time.time() < deadline:
        r = inside(m, "systemctl is-system-running", check=False, quiet=True)
        if r.stdout.strip() in ("running", "degraded"):
            return
        time.sleep(0.5)
    raise RuntimeError(f"{m.name} did not finish booting")


def inside(m: Machine, code: str, *, check: bool = True, quiet: bool = False, timeout: float = 1800,
           ) -> subprocess.CompletedProcess:
    """Run ``code`` as root in the machine, through a login-like clean environment."""
    env = ["env", "-i", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root",
           "LANG=C.UTF-8", "TERM=dumb", "DEBIAN_FRONTEND=noninteractive"]
    argv = ["nsenter", "-t", str(m.leader), "-a", "-r", "-w", *env, "bash", "-e", "-o", "pipefail", "-c",
            "cd /root\n" + code]
    if quiet:
        r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    else:
        r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=timeout)
        log = WORK / f"{m.name}.steps.log"
        with open(log, "a") as f:
            f.write(f"\n$ {code}\n{r.stdout}")
    if check and r.returncode:
        tail = "\n".join((r.stdout or "").splitlines()[-25:])
        raise RuntimeError(f"{m.name}: exit {r.returncode}\n{tail}\n{r.stderr or ''}")
    return r


def save_state(state: dict) -> None:
    WORK.mkdir(parents=True, exist_ok=True)
    STATE.write_text(json.dumps(state))


def our_nspawns() -> dict[int, int]:
    """{systemd-nspawn pid: its init's pid} of the machines under MACHINES_DIR (this script's own)."""
    found = {}
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            argv = (proc / "cmdline").read_bytes().split(b"\0")
            if argv[0].endswith(b"systemd-nspawn") and str(MACHINES_DIR).encode() in b" ".join(argv):
                children = (proc / "task" / proc.name / "children").read_text().split()
                found[int(proc.name)] = int(children[0]) if children else 0
        except (OSError, IndexError):
            continue
    return found


def teardown() -> None:
    state = json.loads(STATE.read_text()) if STATE.exists() else {}
    for nspawn, leader in our_nspawns().items():  # also a machine booted again after --keep
        state.setdefault("nspawn", {})[f"pid{nspawn}"] = nspawn
        state.setdefault("leaders", {})[f"pid{nspawn}"] = leader
    names = [m.name for m in MACHINES] + [k for k in state.get("nspawn", {}) if k.startswith("pid")]
    for name in names:
        m = BY_NAME.get(name)
        leader = state.get("leaders", {}).get(name) or (m.leader if m else 0)
        if leader and Path(f"/proc/{leader}").exists():
            os.kill(leader, signal.SIGKILL)  # the container's init: its whole PID namespace goes
        if m is not None and m.process is not None:
            try:  # ours: reap it (a zombie would keep its /proc entry)
                m.process.wait(10)
            except subprocess.TimeoutExpired:
                m.process.kill()
                m.process.wait(5)
            continue
        nspawn = state.get("nspawn", {}).get(name)
        for _ in range(50):
            if not nspawn or not Path(f"/proc/{nspawn}").exists():
                break
            time.sleep(0.2)
        else:
            os.kill(nspawn, signal.SIGKILL)
    subprocess.run(["ip", "link", "del", BRIDGE], capture_output=True)
    subprocess.run(["nft", "delete", "table", "ip", NFT_TABLE], capture_output=True)
    if "ip_forward" in state:
        Path("/proc/sys/net/ipv4/ip_forward").write_text(state["ip_forward"] + "\n")
    shutil.rmtree(MACHINES_DIR, ignore_errors=True)
    shutil.rmtree(WORK / "repo.git", ignore_errors=True)
    STATE.unlink(missing_ok=True)
    say("torn down: machines, bridge, NAT rule, directories (the package caches in cache/ stay)")


# --- the operator's manual steps -----------------------------------------------------------------

def fill_env(m: Machine, run: Run) -> None:
    """Section 3: fill /etc/huiyi/huiyi.env, key by key, as the comment in the guide asks."""
    values = {
        "DATABASE_URL": f'"postgresql://huiyi:{run.password}@10.0.0.11:5432,10.0.0.12:5432/huiyi'
                        f'?target_session_attrs=read-write&connect_timeout=2"',
        "SECRET_KEY": run.secret_key,
        "DOOR_SIGNING_KEY": "aHVpeWktZ3VpZGUtY2hlY2stZG9vci1rZXktMzJieXQ=",
        "WECHAT_TOKEN": WECHAT_TOKEN,
        "WECHAT_ENCODING_AES_KEY": "",
        "PUBLIC_BASE_URL": "https://10.0.0.10",
    }
    script = "".join(f"sed -i 's|^{k}=.*|{k}={v.replace('&', chr(92) + '&')}|' /etc/huiyi/huiyi.env\n"
                     for k, v in values.items())
    say(f"  operator: fills /etc/huiyi/huiyi.env on {m.name}: " + ", ".join(values))
    inside(m, script + "grep -c CHANGE-ME /etc/huiyi/huiyi.env && exit 1 || true\n")


OPERATOR = {"env": fill_env}


def substitute(code: str, run: Run) -> str:
    return code.replace("<仓库地址>", "/srv/huiyi.git").replace("<应用数据库密码>", run.password)


# --- checking the cluster ------------------------------------------------------------------------

def scan(openid: str, scene: str, timeout: float = 5.0) -> tuple[int, str]:
    """One signed WeChat SCAN delivery through HAProxy, as scripts/bench's callback_request signs it."""
    from scripts.wechat_sim.signing import signature
    from scripts.wechat_sim.xmlmsg import build_xml

    ts, nonce = str(int(time.time())), secrets.token_hex(8)
    body = build_xml([("ToUserName", "gh_huiyi_guide"), ("FromUserName", openid), ("CreateTime", ts),
                      ("MsgType", "event"), ("Event", "SCAN"), ("EventKey", scene), ("Ticket", "guide")])
    conn = http.client.HTTPConnection("10.0.0.10", 80, timeout=timeout)
    try:
        conn.request("POST", f"/wechat/callback?signature={signature(WECHAT_TOKEN, ts, nonce)}&timestamp={ts}"
                     f"&nonce={nonce}&openid={openid}", body.encode(), {"Content-Type": "text/xml"})
        r = conn.getresponse()
        return r.status, r.read().decode("utf-8", "replace")
    finally:
        conn.close()


def signed_in(text: str) -> bool:
    return "签到成功" in text or "您已签到" in text


def on_node(address: str, run: Run, contact_id: int, session_id: int) -> bool:
    import psycopg

    with psycopg.connect(host=address, port=5432, dbname="huiyi", user="huiyi", password=run.password,
                         connect_timeout=3) as conn:
        row = conn.execute("SELECT count(*) FROM signins WHERE contact_id = %s AND session_id = %s "
                           "AND revoked_at IS NULL", (contact_id, session_id)).fetchone()
        return bool(row and row[0] == 1)


def wait_on_node(address: str, run: Run, contact_id: int, session_id: int, within: float = 3.0) -> float:
    """Seconds until the sign-in is visible on the node (the standby replays what it already has)."""
    t = time.perf_counter()
    while time.perf_counter() - t < within:
        if on_node(address, run, contact_id, session_id):
            return time.perf_counter() - t
        time.sleep(0.05)
    raise AssertionError(f"the sign-in of contact {contact_id} is not on {address}")


AFTER_RATE = 4.0  # scans per second after the fault
AFTER_S = 30.0


def after_fault(openids: list[str], scene: str, t_fault: float) -> list[tuple[str, str, float]]:
    """Scans at AFTER_RATE for AFTER_S seconds, each a new person, each in its own thread (a slow answer
    does not hold the next scan back): (openid, kind, seconds from the fault to the answer). Prints what
    the scans sent in each 2 s after the fault got."""
    outcomes: list[tuple[str, str, float]] = []
    sent: dict[str, float] = {}

    def one(openid: str) -> None:
        sent[openid] = time.perf_counter() - t_fault
        try:
            status, text = scan(openid, scene)
            kind = "signed" if status == 200 and signed_in(text) else ("busy" if "繁忙" in text else f"http_{status}")
        except OSError as exc:
            kind = "timeout" if isinstance(exc, TimeoutError) else type(exc).__name__
        outcomes.append((openid, kind, time.perf_counter() - t_fault))

    threads = []
    for i in range(int(AFTER_S * AFTER_RATE)):
        time.sleep(max(0.0, t_fault + i / AFTER_RATE - time.perf_counter()))
        th = threading.Thread(target=one, args=(openids.pop(0),), daemon=True)
        th.start()
        threads.append(th)
    for th in threads:
        th.join(10)
    buckets: dict[int, Counter] = {}
    for openid, kind, _ in outcomes:
        buckets.setdefault(int(sent[openid] // 2) * 2, Counter())[kind] += 1
    for start in sorted(buckets):
        say(f"    sent {start:2d}-{start + 2:2d} s after the fault: {dict(buckets[start])}")
    return outcomes


def readyz_through_proxy(mon: Machine) -> dict[str, str]:
    stat = inside(mon, "echo 'show stat' | socat stdio /run/haproxy/admin.sock", quiet=True).stdout
    status = {}
    for line in stat.splitlines():
        cols = line.split(",")
        if len(cols) > 17 and cols[0] == "apps" and cols[1] in ("app1", "app2"):
            status[cols[1]] = cols[17]
    return status


def verify(run: Run) -> dict:
    from scripts.bench.bench_callback import seed

    mon, h1, h2 = (BY_NAME[n] for n in ("hy-mon", "hy-h1", "hy-h2"))
    result: dict = {}
    say("check: HAProxy's /readyz checks of both app hosts")
    deadline = time.time() + 60
    while (status := readyz_through_proxy(mon)) != {"app1": "UP", "app2": "UP"} and time.time() < deadline:
        time.sleep(1)
    say(f"  HAProxy: {status}")
    result["haproxy"] = status
    assert status == {"app1": "UP", "app2": "UP"}, status
    ctx = ssl.create_default_context()
    ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
    seen = set()
    for _ in range(6):  # round robin: both hosts answer /readyz through the proxy
        conn = http.client.HTTPSConnection("10.0.0.10", 443, timeout=5, context=ctx)
        conn.request("GET", "/readyz")
        r = conn.getresponse()
        body = r.read()
        assert r.status == 200, (r.status, body)
        conn.close()
        seen.add(r.status)
    say("  https://10.0.0.10/readyz: 200 six times in a row")

    say("check: seed a meeting with 200 bound attendees (scripts/bench's seed, through the multi-host URL)")
    db_url = (f"postgresql+psycopg://huiyi:{run.password}@10.0.0.11:5432,10.0.0.12:5432/huiyi"
              "?target_session_attrs=read-write&connect_timeout=2")
    seeded = seed(db_url, "redis://10.0.0.31:6379/0", 200)
    openids = list(seeded.openids)

    say("check: a signed WeChat scan through HAProxy")
    openid = openids.pop(0)
    status, text = scan(openid, seeded.scene)
    assert status == 200 and signed_in(text), (status, text)
    contact = seeded.contact_ids[openid]
    lag = {a: wait_on_node(a, run, contact, seeded.session_id) for a in ("10.0.0.11", "10.0.0.12")}
    say(f"  acknowledged ({text[text.find('签到'):][:12]}...), on db1 and db2 (standby visible after "
        f"{lag['10.0.0.12'] * 1000:.0f} ms)")
    sync = inside(h1, "sudo -u postgres psql -At -d huiyi -c 'SELECT application_name, sync_state FROM "
                  "pg_stat_replication'", quiet=True).stdout.strip()
    say(f"  db1 pg_stat_replication: {sync}")
    assert "sync" in sync or "quorum" in sync, sync
    state = inside(mon, "sudo -u postgres pg_autoctl show state --pgdata /var/lib/postgresql/monitor",
                   quiet=True).stdout
    say("  pg_autoctl show state:\n" + state)
    assert re.search(r"\|\s+primary\s+\|\s+primary", state) and re.search(r"\|\s+secondary\s+\|\s+secondary", state)
    master = inside(mon, "redis-cli -h 10.0.0.10 -p 26379 sentinel get-master-addr-by-name huiyi",
                    quiet=True).stdout.split()
    say(f"  Sentinel's master: {master}")
    assert master[:1] == ["10.0.0.31"], master
    result.update(before={"sync_state": sync, "sentinel_master": master, "standby_lag_ms": round(lag["10.0.0.12"] * 1000)})

    say(f"fault: hy-h1 loses power (SIGKILL to its init): db1 primary, Redis master and app1 gone; "
        f"a scan every {1 / AFTER_RATE:.2f} s for {AFTER_S:.0f} s, each answered within 5 s or given up")
    t_fault = time.perf_counter()
    os.kill(h1.leader, signal.SIGKILL)
    outcomes = after_fault(openids, seeded.scene, t_fault)
    acked = [(o, at) for o, kind, at in outcomes if kind == "signed"]
    answers = Counter(kind for _, kind, _ in outcomes)
    assert acked, f"no scan acknowledged within {AFTER_S:.0f} s after the fault: {dict(answers)}"
    first_ack = min(at for _, at in acked)
    say(f"  first scan acknowledged {first_ack:.1f} s after the fault; answers: {dict(answers)}")
    for o, _ in acked:
        wait_on_node("10.0.0.12", run, seeded.contact_ids[o], seeded.session_id)
    wait_on_node("10.0.0.12", run, contact, seeded.session_id)
    say(f"  all {len(acked)} acknowledged after the fault, and the one before it, are on db2 (now the primary)")
    busy = [o for o, kind, _ in outcomes if kind == "busy"]
    false_busy = [o for o in busy if on_node("10.0.0.12", run, seeded.contact_ids[o], seeded.session_id)]
    assert not false_busy, f"told 系统繁忙 but signed in: {false_busy}"
    unanswered = [o for o, kind, _ in outcomes if kind not in ("signed", "busy")]
    landed = sum(on_node("10.0.0.12", run, seeded.contact_ids[o], seeded.session_id) for o in unanswered)
    say(f"  {len(busy)} answered 系统繁忙, none of them signed in (true); {len(unanswered)} unanswered within 5 s "
        f"(WeChat would deliver them again), {landed} of which were signed in")
    state = inside(mon, "sudo -u postgres pg_autoctl show state --pgdata /var/lib/postgresql/monitor",
                   quiet=True).stdout
    say("  pg_autoctl show state:\n" + state)
    master = []
    for _ in range(30):
        master = inside(mon, "redis-cli -h 10.0.0.10 -p 26379 sentinel get-master-addr-by-name huiyi",
                        quiet=True).stdout.split()
        if master[:1] == ["10.0.0.32"]:
            break
        time.sleep(1)
    say(f"  Sentinel's master: {master}; HAProxy: {readyz_through_proxy(mon)}")
    result.update(after={"first_ack_s": round(first_ack, 1), "answers": dict(answers), "sentinel_master": master})
    result["returned"] = host_returns(run, seeded, openids)
    return result


def wait_until(check, timeout: float, what: str) -> float:
    t = time.perf_counter()
    while time.perf_counter() - t < timeout:
        if check():
            return time.perf_counter() - t
        time.sleep(1)
    raise AssertionError(f"{what}: not within {timeout:.0f} s")


def host_returns(run: Run, seeded, openids: list[str]) -> dict:
    """hy-h1 boots again: its enabled units (pgautofailover, redis, huiyi-*) start by themselves, db1
    rejoins as the synchronous standby, Redis as a replica, app1 back in HAProxy."""
    mon, h1 = BY_NAME["hy-mon"], BY_NAME["hy-h1"]
    say("recovery: hy-h1 boots again; nothing is started by hand")
    t0 = time.perf_counter()
    boot(h1)
    state = json.loads(STATE.read_text())
    state["leaders"][h1.name], state["nspawn"][h1.name] = h1.leader, h1.process.pid
    save_state(state)

    def pg_state() -> str:
        return inside(mon, "sudo -u postgres pg_autoctl show state --pgdata /var/lib/postgresql/monitor",
                      quiet=True, check=False).stdout

    wait_until(lambda: re.search(r"db1 .*\|\s+secondary\s+\|\s+secondary", pg_state())
               and re.search(r"db2 .*\|\s+primary\s+\|\s+primary", pg_state()), 300, "db1 back as secondary")
    pg_s = time.perf_counter() - t0
    say(f"  db1 rejoined as the synchronous standby {pg_s:.0f} s after the boot began:\n" + pg_state())
    wait_until(lambda: readyz_through_proxy(mon).get("app1") == "UP", 120, "app1 UP again")
    replicas = ""
    for _ in range(60):
        replicas = inside(mon, "redis-cli -p 26379 sentinel replicas huiyi", quiet=True).stdout
        if "10.0.0.31" in replicas:
            break
        time.sleep(1)
    assert "10.0.0.31" in replicas, replicas
    say(f"  app1 UP in HAProxy, Redis 10.0.0.31 a replica of 10.0.0.32 ({time.perf_counter() - t0:.0f} s)")
    openid = openids.pop(0)
    status, text = scan(openid, seeded.scene)
    assert status == 200 and signed_in(text), (status, text)
    contact = seeded.contact_ids[openid]
    lag = {a: wait_on_node(a, run, contact, seeded.session_id) for a in ("10.0.0.12", "10.0.0.11")}
    say("  a scan acknowledged and on both nodes again")
    return {"db1_secondary_s": round(pg_s), "all_back_s": round(time.perf_counter() - t0),
            "standby_lag_ms": round(lag["10.0.0.11"] * 1000)}


# --- main ----------------------------------------------------------------------------------------

def bring_up(run: Run, state: dict, commit: str) -> None:
    ensure_tools()
    rootfs = base_rootfs()
    run.timings.append(("base rootfs", run.elapsed()))
    clone = WORK / "repo.git"
    shutil.rmtree(clone, ignore_errors=True)
    sh("git", "clone", "-q", "--bare", str(ROOT), str(clone))
    if commit != "HEAD":
        sh("git", "-C", str(clone), "update-ref", "HEAD", commit)
    head = subprocess.run(["git", "-C", str(clone), "rev-parse", "--short", "HEAD"], capture_output=True,
                          text=True).stdout.strip()
    say(f"the code: git clone of {ROOT} at {head}, copied into each machine as /srv/huiyi.git")
    state["head"] = head
    # The guide of the same commit as the code and deploy/ files the machines get.
    steps = parse_guide(subprocess.run(["git", "-C", str(clone), "show", f"HEAD:{GUIDE}"], capture_output=True,
                                       text=True, check=True).stdout)
    say(f"{len(steps)} steps in {GUIDE} at {head}; machines under {MACHINES_DIR}, logs {WORK}/*.log")
    network_up(state)
    MACHINES_DIR.mkdir(parents=True, exist_ok=True)
    for m in MACHINES:
        provision(m, rootfs, clone)
        boot(m)
        state.setdefault("leaders", {})[m.name] = m.leader
        state.setdefault("nspawn", {})[m.name] = m.process.pid
        save_state(state)
        say(f"booted {m.name} ({', '.join(m.addresses)}; roles {', '.join(m.roles)}): systemd "
            f"{inside(m, 'systemctl --version | head -1', quiet=True).stdout.split()[1]} as PID 1")
    run.timings.append(("machines booted", run.elapsed()))
    say(f"operator inputs: <仓库地址> = /srv/huiyi.git, <应用数据库密码> = {run.password}")
    state["password"] = run.password
    save_state(state)
    for n, step in enumerate(steps, 1):
        if step.operator:
            targets = machines_for(["app1", "app2"]) if step.operator == "env" else []
            for m in targets:
                OPERATOR[step.operator](m, run)
            continue
        for m in machines_for(step.hosts):
            first = step.code.strip().splitlines()[0]
            say(f"step {n}/{len(steps)} ({step.heading}; {GUIDE}:{step.line}) on {m.name}: {first[:90]}")
            t = time.perf_counter()
            inside(m, substitute(step.code, run))
            run.timings.append((f"{step.heading} on {m.name}", time.perf_counter() - t))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keep", action="store_true", help="leave the machines running (then --down)")
    parser.add_argument("--down", action="store_true", help="tear down what an earlier --keep left")
    parser.add_argument("--no-verify", action="store_true", help="only follow the guide")
    parser.add_argument("--commit", default="HEAD", help="the commit whose code, deploy/ and guide to follow")
    parser.add_argument("--verify-only", action="store_true", help="only check the machines --keep left")
    args = parser.parse_args(argv)
    if os.geteuid() != 0:
        raise SystemExit("needs root (debootstrap, systemd-nspawn, a bridge)")
    if args.down:
        teardown()
        return 0
    if args.verify_only:
        state = json.loads(STATE.read_text())
        for m in MACHINES:
            m.leader = state["leaders"][m.name]
        run = Run(password=state["password"])
        say("RESULT: " + json.dumps(verify(run), ensure_ascii=False))
        return 0
    if STATE.exists() or MACHINES_DIR.exists():
        raise SystemExit(f"an earlier run's machines are still there: --down first ({WORK})")
    run, state, ok = Run(), {}, False
    for f in WORK.glob("*.log"):
        f.unlink()
    try:
        bring_up(run, state, args.commit)
        run.timings.append(("guide followed", run.elapsed()))
        say(f"the guide's steps all ran ({run.elapsed():.0f} s)")
        result = {} if args.no_verify else verify(run)
        run.timings.append(("checked", run.elapsed()))
        ok = True
        say("RESULT: the guide brings up the cluster; " + json.dumps(result, ensure_ascii=False))
        for name, seconds in run.timings:
            say(f"  {seconds:7.1f} s  {name}")
        return 0
    except Exception as exc:  # noqa: BLE001 -- report and tear down whatever failed
        say(f"FAILED after {run.elapsed():.0f} s: {exc}")
        return 1
    finally:
        if args.keep:
            say(f"kept the machines (ok={ok}); enter one with: nsenter -t <leader> -a -r -w bash; "
                f"leaders {state.get('leaders')}; tear down with --down")
        else:
            teardown()


if __name__ == "__main__":
    sys.exit(main())
