"""A tiny test image built here: Debian's static busybox in a one-layer image.

No registry is reachable, so cluster tests use this image: ``docker import`` of a
tarball holding ``/bin/busybox`` and its applet links, loaded into the cluster with
``hack/cluster load``.
"""

from __future__ import annotations

import hashlib
import io
import subprocess
import tarfile
from pathlib import Path

from tests.support.cluster import HACK_CLUSTER, TOP

BUSYBOX = Path("/bin/busybox")
APPLETS = ("sh", "nc", "httpd", "nslookup", "sleep", "cat", "echo", "hostname", "seq", "grep")


def busybox_rootfs() -> bytes:
    """A tar stream of the image's root filesystem."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name in ("bin", "etc", "tmp", "www"):
            info = tarfile.TarInfo(name)
            info.type = tarfile.DIRTYPE
            info.mode = 0o1777 if name == "tmp" else 0o755
            tar.addfile(info)
        tar.add(BUSYBOX, arcname="bin/busybox")
        for applet in APPLETS:
            link = tarfile.TarInfo(f"bin/{applet}")
            link.type = tarfile.SYMTYPE
            link.linkname = "busybox"
            tar.addfile(link)
        passwd = b"root:x:0:0:root:/:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n"
        info = tarfile.TarInfo("etc/passwd")
        info.size = len(passwd)
        tar.addfile(info, io.BytesIO(passwd))
    return buf.getvalue()


def build_and_load_busybox() -> str:
    """Build the image (tag keyed by the busybox binary), load it; return its reference."""
    digest = hashlib.sha256(BUSYBOX.read_bytes()).hexdigest()[:12]
    ref = f"ripple-test/busybox:{digest}"
    subprocess.run([str(TOP / "hack" / "docker")], check=True, timeout=180)
    present = subprocess.run(
        ["docker", "image", "inspect", ref], capture_output=True, timeout=60
    ).returncode
    if present != 0:
        subprocess.run(
            ["docker", "import", "--change", 'ENTRYPOINT ["/bin/sh"]', "-", ref],
            input=busybox_rootfs(),
            capture_output=True,
            check=True,
            timeout=120,
        )
    subprocess.run([str(HACK_CLUSTER), "load", ref], capture_output=True, check=True, timeout=300)
    return ref
