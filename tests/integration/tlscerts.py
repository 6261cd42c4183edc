"""Test-only TLS material, made fresh by the `openssl` command for each test: a private CA, certificates it
signs, and a self-signed one nobody trusts. Nothing here is committed key material."""
import subprocess
from pathlib import Path


def _run(*args):
    subprocess.run(["openssl", *args], check=True, capture_output=True, timeout=60)


class CA:
    def __init__(self, directory, name="Petrel Test CA"):
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.cert = str(self.dir / "ca.pem")
        self.key = str(self.dir / "ca.key")
        _run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", self.key, "-out", self.cert, "-days", "2",
             "-subj", f"/CN={name}", "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign")

    def issue(self, name, dns=("localhost",), ips=("127.0.0.1",), client=False):
        """A certificate (and key) for `dns`/`ips`, signed by this CA; returns (cert path, key path)."""
        key, csr, cert = (str(self.dir / f"{name}.{ext}") for ext in ("key", "csr", "pem"))
        _run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr, "-subj", f"/CN={name}")
        san = ",".join([f"DNS:{d}" for d in dns] + [f"IP:{i}" for i in ips])
        ext = self.dir / f"{name}.ext"
        ext.write_text(f"subjectAltName={san}\nextendedKeyUsage={'clientAuth' if client else 'serverAuth'}\n")
        _run("x509", "-req", "-in", csr, "-CA", self.cert, "-CAkey", self.key, "-CAcreateserial", "-out", cert,
             "-days", "2", "-extfile", str(ext))
        return cert, key


def self_signed(directory, name="untrusted", dns=("localhost",)):
    """A certificate for `dns` that no CA signed; returns (cert path, key path)."""
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    cert, key = str(d / f"{name}.pem"), str(d / f"{name}.key")
    san = ",".join(f"DNS:{x}" for x in dns)
    _run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "2",
         "-subj", f"/CN={name}", "-addext", f"subjectAltName={san},IP:127.0.0.1")
    return cert, key
