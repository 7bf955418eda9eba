"""HAProxy's configurations (deploy/ for operators, the local cluster's for the drills) load, and keep
what the door relies on when a machine is lost: WeChat's callbacks given up after 3.5 s on a silent
host and resent to the other, the time HAProxy received them passed on, backups only to live hosts."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from scripts.cluster.cluster import Cluster
from wechat_handlers.deadline import CALLBACK_DEADLINE_S, PROXY_DEADLINE_S

ROOT = Path(__file__).resolve().parents[2]


def _cluster_config(tmp_path: Path) -> str:
    cluster = Cluster.__new__(Cluster)  # only its addresses and directory: nothing is started
    cluster.isolation, cluster.dir = "netns", tmp_path
    return cluster.proxy_config()


def _configs(tmp_path: Path) -> dict[str, str]:
    return {"deploy": (ROOT / "deploy/haproxy/haproxy.cfg").read_text(),
            "compose": (ROOT / "deploy/haproxy/compose.cfg").read_text(),
            "cluster": _cluster_config(tmp_path)}


def _backend(text: str, name: str) -> str:
    match = re.search(rf"^backend {name}\n((?:[ #].*\n|\n)*)", text, re.M)
    assert match, f"no backend {name}"
    return match.group(1)


@pytest.mark.parametrize("which", ["deploy", "compose", "cluster"])
def test_the_door_gives_up_a_silent_host_in_time_to_be_answered_by_the_other(tmp_path, which):
    text = _configs(tmp_path)[which]
    assert "http-request set-header X-Request-Start t=%[date(0,ms)]" in text
    assert "use_backend door if { path /wechat/callback }" in text
    door = _backend(text, "door")
    timeout_ms = int(re.search(r"timeout server (\d+)ms", door).group(1))
    # Later than the app's own answer, and early enough for the other host to answer by PROXY_DEADLINE_S.
    assert CALLBACK_DEADLINE_S * 1000 < timeout_ms < PROXY_DEADLINE_S * 1000
    assert re.search(r"retry-on .*\bresponse-timeout\b", door) and "conn-failure" in door
    for backend in ("apps", "door"):
        backups = [line for line in _backend(text, backend).splitlines()
                   if line.strip().startswith("server") and " backup" in line]
        assert len(backups) == 2 and all("track live/" in line for line in backups), backend
    assert "option httpchk GET /healthz" in _backend(text, "live")


@pytest.mark.skipif(shutil.which("haproxy") is None, reason="haproxy is not installed")
@pytest.mark.parametrize("which", ["deploy", "cluster"])
def test_haproxy_loads_it(tmp_path, which):
    text = _configs(tmp_path)[which]
    if which == "deploy":  # the operator's certificate, socket and user: stand-ins here
        pem = tmp_path / "huiyi.pem"
        key, cert = tmp_path / "k.pem", tmp_path / "c.pem"
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=t",
                        "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
        pem.write_text(cert.read_text() + key.read_text())
        text = (text.replace("/etc/haproxy/certs/huiyi.pem", str(pem))
                .replace("/run/haproxy/admin.sock", str(tmp_path / "admin.sock")))
        text = "\n".join(line for line in text.splitlines() if line.strip() not in ("user haproxy", "group haproxy"))
    conf = tmp_path / "haproxy.cfg"
    conf.write_text(text + "\n")
    r = subprocess.run(["haproxy", "-c", "-f", str(conf)], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
