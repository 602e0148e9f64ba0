//go:build tools

// Package tools pins Toxiproxy's server command so `go mod tidy` keeps what it needs.
package tools

import _ "github.com/Shopify/toxiproxy/v2/cmd/server"
