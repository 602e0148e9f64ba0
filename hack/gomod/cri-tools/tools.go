//go:build tools

// Package tools pins crictl, which kubeadm needs inside the kind node image (Debian 12
// ships no cri-tools package), so `go mod tidy` keeps every module it needs.
package tools

import _ "sigs.k8s.io/cri-tools/cmd/crictl"
