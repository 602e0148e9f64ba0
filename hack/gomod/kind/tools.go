//go:build tools

// Package tools pins kind, the cluster tool hack/kind builds, so `go mod tidy` keeps
// every module it needs.
package tools

import _ "sigs.k8s.io/kind"
