//go:build tools

// Package tools pins kube-router's command so `go mod tidy` keeps what it needs.
package tools

import _ "github.com/cloudnativelabs/kube-router/v2/cmd/kube-router"
