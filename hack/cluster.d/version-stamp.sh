# shellcheck shell=bash
# Sourced by hack/cluster.d/build.sh and hack/kind.d/build.sh (needs versions.env).

# kubernetes_ldflags: go build's -ldflags for a Kubernetes binary, stripped and stamped with
# the version as Kubernetes' own build does, so `kubectl version`, the apiserver's /version
# and kubeadm report it.
kubernetes_ldflags() {
  local minor=${KUBERNETES_VERSION#v1.} ld="-s -w" p
  minor=${minor%%.*}
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ld="$ld -X $p.gitVersion=$KUBERNETES_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$minor"
    ld="$ld -X $p.gitTreeState=clean -X $p.gitCommit=$KUBERNETES_VERSION -X $p.buildDate=1970-01-01T00:00:00Z"
  done
  echo "$ld"
}
