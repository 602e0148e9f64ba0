# shellcheck shell=bash
# The binaries hack/kind builds: kind, kubeadm (in hack/gomod/kubernetes, beside the
# binaries hack/cluster builds, stamped the same way) and crictl, each cached by version.

# shellcheck source=../cluster.d/version-stamp.sh
. "$here/cluster.d/version-stamp.sh"

check_gomod() {  # check_gomod MODULE-DIR MODULE VERSION
  grep -qE "^[[:space:]]*(require )?$2 $3\$" "$here/gomod/$1/go.mod" ||
    die "hack/gomod/$1/go.mod does not require $2 $3 (hack/versions.env): keep them in step"
}

go_build() {  # go_build OUT MODULE-DIR LDFLAGS PACKAGE
  local out=$1 mod=$2 ld=$3 pkg=$4
  [ -x "$out" ] && return 0
  say "building $(basename "$out") ($pkg; log $out.log) ..."
  mkdir -p "$(dirname "$out")"
  (cd "$here/gomod/$mod" && nice -n 10 go build -trimpath -ldflags "$ld" -o "$out.tmp" "$pkg") >"$out.log" 2>&1 ||
    { tail -n 30 "$out.log" >&2; die "build of $pkg failed"; }
  mv "$out.tmp" "$out"
}

kind_module_dir() {  # prints the kind module's directory (its images/ hold the base recipe)
  local d="$GOMODCACHE/sigs.k8s.io/kind@$KIND_VERSION"
  [ -d "$d" ] || (cd "$here/gomod/kind" && go mod download sigs.k8s.io/kind) >&2
  echo "$d"
}

build_tools() {
  check_gomod kind sigs.k8s.io/kind "$KIND_VERSION"
  go_build "$kind_bin" kind "-s -w" sigs.k8s.io/kind
  check_gomod cri-tools sigs.k8s.io/cri-tools "$CRICTL_VERSION"
  go_build "$cache/crictl/$CRICTL_VERSION/crictl" cri-tools "-s -w" sigs.k8s.io/cri-tools/cmd/crictl
  check_gomod kubernetes k8s.io/kubernetes "$KUBERNETES_VERSION"
  local ld
  ld=$(kubernetes_ldflags)
  go_build "$kubeadm_bin" kubernetes "$ld" k8s.io/kubernetes/cmd/kubeadm
  # The other Kubernetes binaries and the component images come from hack/cluster's build.
  local b
  for b in kubelet kubectl etcd; do
    [ -x "$k8s_bin/$b" ] || { say "no $k8s_bin/$b: running hack/cluster build"; "$here/cluster" build; break; }
  done
}

build_all() {
  need_root
  "$here/docker"
  build_tools
  build_base_image
  build_node_image
}
