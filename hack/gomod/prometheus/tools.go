//go:build tools

// Package tools pins Prometheus's command so `go mod tidy` keeps what it needs.
package tools

import _ "github.com/prometheus/prometheus/cmd/prometheus"
