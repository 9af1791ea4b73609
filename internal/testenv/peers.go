package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// peersHint says how to get the interop peers.
const peersHint = "scripts/peers-install.sh installs the interop peers"

// PHP returns the php interpreter (env PHP, else php on PATH), checking
// that it has the xmlrpc extension, or skips the test (fails it when CI
// is set).
func PHP(t testing.TB) string {
	t.Helper()
	php := tool(t, "PHP", "php")
	if out, err := exec.Command(php, "-r", `exit(function_exists("xmlrpc_encode_request") ? 0 : 1);`).CombinedOutput(); err != nil {
		unavailable(t, fmt.Sprintf("%s has no xmlrpc extension (Debian: php-xmlrpc; %s): %v %s", php, peersHint, err, out))
	}
	return php
}

// Ruby returns the ruby interpreter (env RUBY, else ruby on PATH),
// checking that it can require libs (for example "xmlrpc/server",
// "bunny"), or skips the test (fails it when CI is set).
func Ruby(t testing.TB, libs ...string) string {
	t.Helper()
	ruby := tool(t, "RUBY", "ruby")
	script := ""
	for _, l := range libs {
		script += fmt.Sprintf("require %q;", l)
	}
	if out, err := exec.Command(ruby, "-e", script).CombinedOutput(); err != nil {
		unavailable(t, fmt.Sprintf("%s cannot require %v (Debian: ruby-xmlrpc ruby-webrick ruby-bunny; %s): %v %s",
			ruby, libs, peersHint, err, out))
	}
	return ruby
}

// Node returns the node interpreter (env NODE, else node on PATH),
// checking that the program directory dir has its npm packages modules
// installed (npm ci there), or skips the test (fails it when CI is set).
func Node(t testing.TB, dir string, modules ...string) string {
	t.Helper()
	node := tool(t, "NODE", "node")
	abs, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range modules {
		cmd := exec.Command(node, "-e", fmt.Sprintf("require.resolve(%q)", m))
		cmd.Dir = abs
		if out, err := cmd.CombinedOutput(); err != nil {
			unavailable(t, fmt.Sprintf("npm package %s is not installed in %s (npm ci there; %s): %v %s",
				m, dir, peersHint, err, firstLine(out)))
		}
	}
	return node
}

// tool returns the program named by env, else name on PATH, or skips the
// test (fails it when CI is set).
func tool(t testing.TB, env, name string) string {
	t.Helper()
	if p := os.Getenv(env); p != "" {
		return p
	}
	p, err := exec.LookPath(name)
	if err != nil {
		unavailable(t, fmt.Sprintf("%s is needed (set %s; %s): %v", name, env, peersHint, err))
	}
	return p
}

func firstLine(b []byte) string {
	s, _, _ := strings.Cut(strings.TrimSpace(string(b)), "\n")
	return s
}
