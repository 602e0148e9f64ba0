# shellcheck shell=bash
# The kind base image, built the way kind's images/base/Dockerfile builds it, with every
# download replaced: a Debian root from debootstrap, containerd/runc/CNI plugins from
# Debian's packages (containerd 1.6: v1.35 is the last Kubernetes on containerd 1.x),
# crictl from its Go module, and kind's own files (entrypoint, units, scripts) from the
# kind module. Imported with `docker import`, saved once under $kind_cache/base.

base_packages=(
  systemd systemd-sysv dbus conntrack iptables nftables iproute2 ethtool util-linux mount kmod
  libseccomp2 pigz fuse-overlayfs e2fsprogs bash ca-certificates curl jq procps ipset
  containerd runc containernetworking-plugins
)

build_base_image() {
  local tarball
  tarball="$kind_cache/base/$(echo "$KIND_BASE_IMAGE" | tr '/:' '__').tar"
  if docker image inspect "$KIND_BASE_IMAGE" >/dev/null 2>&1; then return 0; fi
  if [ -s "$tarball" ]; then docker load -i "$tarball" >/dev/null; return 0; fi
  local files root include
  mkdir -p "$kind_cache/base"
  files="$(kind_module_dir)/images/base/files"
  root="$kind_cache/base/rootfs"
  say "building the base image $KIND_BASE_IMAGE: debootstrap $KIND_DEBIAN_SUITE (cold: minutes; log $kind_cache/base/debootstrap.log) ..."
  command -v debootstrap >/dev/null 2>&1 || { apt-get update -qq >&2; apt-get install -y -qq --no-install-recommends debootstrap >&2; }
  rm -rf "$root" && mkdir -p "$root"
  include=$(IFS=,; echo "${base_packages[*]}")
  nice -n 10 debootstrap --variant=minbase --include="$include" "$KIND_DEBIAN_SUITE" "$root" "$KIND_DEBIAN_MIRROR" \
    >"$kind_cache/base/debootstrap.log" 2>&1 || { tail -n 30 "$kind_cache/base/debootstrap.log" >&2; die "debootstrap failed"; }
  # kind's files, placed as its Dockerfile's COPY lines place them.
  install -m 0755 "$files"/usr/local/bin/* "$root/usr/local/bin/"
  mkdir -p "$root/kind/bin" "$root/etc/containerd" "$root/etc/default" "$root/etc/sysctl.d" \
    "$root/etc/systemd/system/kubelet.service.d" "$root/LICENSES" "$root/opt/cni/bin"
  install -m 0644 "$files"/kind/README.txt "$root/kind/"
  install -m 0755 "$files"/kind/bin/* "$root/kind/bin/"
  install -m 0644 "$files"/etc/crictl.yaml "$root/etc/"
  install -m 0644 "$files"/etc/default/* "$root/etc/default/"
  install -m 0644 "$files"/etc/sysctl.d/* "$root/etc/sysctl.d/"
  install -m 0644 "$files"/etc/systemd/system/*.service "$files"/etc/systemd/system/*.slice "$root/etc/systemd/system/"
  install -m 0644 "$files"/etc/systemd/system/kubelet.service.d/* "$root/etc/systemd/system/kubelet.service.d/"
  # containerd 1.6's config (kind's is for 2.x), binaries where kind's units expect them.
  install -m 0644 "$here/kind.d/containerd.toml" "$root/etc/containerd/config.toml"
  ln -sf /usr/bin/containerd "$root/usr/local/bin/containerd"
  ln -sf /usr/bin/containerd-shim-runc-v2 "$root/usr/local/bin/containerd-shim-runc-v2"
  ln -sf /usr/bin/ctr "$root/usr/local/bin/ctr"
  install -m 0755 "$cache/crictl/$CRICTL_VERSION/crictl" "$root/usr/local/bin/crictl"
  local p
  for p in host-local loopback ptp portmap bridge; do ln -sf "/usr/lib/cni/$p" "$root/opt/cni/bin/$p"; done
  cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/ca-certificates.crt"
  # The Dockerfile's RUN steps.
  chroot "$root" sh -c 'ctr oci spec' |
    jq '.hooks.createContainer[.hooks.createContainer| length] |= . + {"path": "/kind/bin/mount-product-files.sh"}' |
    jq 'del(.process.rlimits)' >"$root/etc/containerd/cri-base.json"
  chroot "$root" sh -ec '
    find /lib/systemd/system/sysinit.target.wants/ -name "systemd-tmpfiles-setup.service" -delete
    rm -f /lib/systemd/system/multi-user.target.wants/* /etc/systemd/system/*.wants/* \
      /lib/systemd/system/local-fs.target.wants/* /lib/systemd/system/sockets.target.wants/*udev* \
      /lib/systemd/system/sockets.target.wants/*initctl* /lib/systemd/system/basic.target.wants/*
    echo "ReadKMsg=no" >> /etc/systemd/journald.conf
    ln -sf /usr/lib/systemd/systemd /sbin/init
    systemctl enable kubelet.service containerd.service undo-mount-hacks.service
    systemctl mask systemd-binfmt.service
    mkdir -p /etc/kubernetes/manifests
    apt-get clean; rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/log/*.log
  ' >>"$kind_cache/base/debootstrap.log" 2>&1 || { tail -n 30 "$kind_cache/base/debootstrap.log" >&2; die "base image setup failed"; }
  # `docker import` takes no STOPSIGNAL: a one-line build adds it.
  tar --numeric-owner -C "$root" -c . | docker import \
    --change 'ENV container=docker' \
    --change 'ENTRYPOINT ["/usr/local/bin/entrypoint", "/sbin/init"]' - "$KIND_BASE_IMAGE-rootfs" >/dev/null
  rm -rf "$root"
  printf 'FROM %s\nSTOPSIGNAL SIGRTMIN+3\n' "$KIND_BASE_IMAGE-rootfs" |
    docker build -q -t "$KIND_BASE_IMAGE" - >/dev/null
  docker rmi "$KIND_BASE_IMAGE-rootfs" >/dev/null
  docker save "$KIND_BASE_IMAGE" -o "$tarball.tmp" && mv "$tarball.tmp" "$tarball"
}
