"""nginx (Debian's package) in front of app processes, with the site README's
"Deployment" shows, read from README itself: only the listen ports, the
upstream's ports and the certificate's paths are changed. nginx runs as a
non-daemon child with its prefix, pid file, logs and temporary files in a
temporary directory; the certificate is self-signed, made by ``openssl``."""
from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
from pathlib import Path

from .deploy_waitress import free_port, readme_block

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
OPENSSL = shutil.which("openssl") or "/usr/bin/openssl"
HOST = "hoard.example"
MISSING = "nginx is not installed (apt-get install nginx; .ci/run installs it)"
#: README's site: its first line, the ports and paths the tests replace.
SITE_MARKER = "# /etc/nginx/sites-enabled/dragonhoard"
README_APP_PORTS = (6543, 6544)

MAIN_CONFIG = """\
daemon off;
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log;
{user}
events {{ worker_connections 256; }}

http {{
    access_log {dir}/access.log;
    client_body_temp_path {dir}/client_body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;

{site}
}}
"""


def available() -> bool:
    return os.access(NGINX, os.X_OK) and os.access(OPENSSL, os.X_OK)


def make_certificate(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for hoard.example (and 127.0.0.1)."""
    cert, key = directory / "hoard.example.pem", directory / "hoard.example.key"
    subprocess.run(
        [OPENSSL, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-days", "2", "-subj", f"/CN={HOST}",
         "-addext", f"subjectAltName=DNS:{HOST},IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )
    return cert, key


def _replace(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, f"README's nginx site lost {old!r}"
    return text.replace(old, new)


def site(http_port: int, https_port: int, app_ports: list[int], cert: Path, key: Path) -> str:
    """README's site on these ports, with this certificate."""
    text = readme_block(SITE_MARKER)
    text = _replace(text, "listen 80;", f"listen 127.0.0.1:{http_port};")
    text = _replace(text, "listen 443 ssl;", f"listen 127.0.0.1:{https_port} ssl;")
    servers = "".join(f"    server 127.0.0.1:{port};\n" for port in app_ports)
    readme_servers = "".join(f"    server 127.0.0.1:{port};\n" for port in README_APP_PORTS)
    text = _replace(text, readme_servers, servers)
    text = re.sub(r"ssl_certificate .*;", f"ssl_certificate {cert};", text)
    text = re.sub(r"ssl_certificate_key .*;", f"ssl_certificate_key {key};", text)
    return text


class Nginx:
    def __init__(self, app_ports: list[int]) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="dh-nginx-"))
        self.http_port, self.https_port = free_port(), free_port()
        self.cert, key = make_certificate(self.dir)
        # Workers of a root master would run as nobody, who cannot read the key.
        user = "user root;" if os.geteuid() == 0 else ""
        text = MAIN_CONFIG.format(dir=self.dir, user=user,
                                  site=site(self.http_port, self.https_port, app_ports, self.cert, key))
        (self.dir / "nginx.conf").write_text(text)
        self.process: subprocess.Popen | None = None

    def tls(self) -> ssl.SSLContext:
        """A client context that trusts only this site's certificate."""
        return ssl.create_default_context(cafile=str(self.cert))

    def start(self) -> Nginx:
        self.process = subprocess.Popen(
            [NGINX, "-p", f"{self.dir}/", "-c", str(self.dir / "nginx.conf"),
             "-e", str(self.dir / "error.log")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and self.process.poll() is None:
            try:
                for port in (self.http_port, self.https_port):
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return self
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"nginx did not start:\n{self.log()}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)  # fast shutdown, workers included
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)

    def log(self) -> str:
        path = self.dir / "error.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)
