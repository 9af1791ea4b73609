#!/usr/bin/env bash
# Installs what the interop peers need and is missing, then prints the
# versions it found:
#   PHP with the xmlrpc extension        (Debian php-cli, php-xmlrpc)
#   Ruby with xmlrpc, webrick and bunny  (Debian ruby, ruby-xmlrpc, ruby-webrick, ruby-bunny)
#   Node.js and npm                      (Debian nodejs, npm), and the npm
#                                        packages of xmlrpc/testdata/peers/node
#                                        and amqp/testdata/peers/node (npm ci)
#   Python 3 with pika at /usr/bin/python3 (Debian python3-pika)
#
#   scripts/peers-install.sh
#
# Idempotent: with everything present it installs nothing, runs no
# apt-get update and prints only the versions. Runs apt-get as root (or
# through sudo when not root). A Node.js that is already installed is kept
# even when it is not Debian's (e.g. one that bundles its own npm, which
# Debian's npm package conflicts with). Exits non-zero when something is
# still missing afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive

node_dirs=(xmlrpc/testdata/peers/node amqp/testdata/peers/node)

have() { command -v "$1" >/dev/null 2>&1; }
php_ok() { have php && php -r 'exit(function_exists("xmlrpc_encode_request") ? 0 : 1);' 2>/dev/null; }
ruby_gem_ok() { have ruby && ruby -e "require '$1'" 2>/dev/null; }
pika_ok() { [ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import pika' 2>/dev/null; }

# Debian packages for what is missing.
pkgs=()
have php || pkgs+=(php-cli)
php_ok || pkgs+=(php-xmlrpc)
have ruby || pkgs+=(ruby)
ruby_gem_ok xmlrpc/server || pkgs+=(ruby-xmlrpc)
ruby_gem_ok webrick || pkgs+=(ruby-webrick)
ruby_gem_ok bunny || pkgs+=(ruby-bunny)
have node || pkgs+=(nodejs)
have npm || pkgs+=(npm)
pika_ok || pkgs+=(python3-pika)

if [ ${#pkgs[@]} -gt 0 ]; then
	sudo=()
	[ "$(id -u)" -eq 0 ] || sudo=(sudo)
	echo "peers-install: apt-get install ${pkgs[*]}" >&2
	"${sudo[@]}" apt-get update -qq
	"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null
fi

# npm packages, from each peer directory's package-lock.json.
for dir in "${node_dirs[@]}"; do
	deps=$(cd "$dir" && node -e 'console.log(Object.keys(require("./package.json").dependencies || {}).join(" "))' 2>/dev/null || true)
	missing=0
	[ -d "$dir/node_modules" ] || missing=1
	for dep in $deps; do
		(cd "$dir" && node -e "require.resolve('$dep')" 2>/dev/null) || missing=1
	done
	if [ "$missing" -eq 1 ]; then
		echo "peers-install: npm ci in $dir" >&2
		(cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
	fi
done

# What is there now, and its versions.
fail=0
check() { # name, test command...
	local name=$1
	shift
	if ! "$@"; then
		echo "peers-install: $name is still missing" >&2
		fail=1
	fi
}
check "php with the xmlrpc extension" php_ok
check "ruby xmlrpc" ruby_gem_ok xmlrpc/server
check "ruby webrick" ruby_gem_ok webrick
check "ruby bunny" ruby_gem_ok bunny
check "node" have node
check "npm" have npm
check "python3 pika" pika_ok
for dir in "${node_dirs[@]}"; do
	check "npm packages in $dir" test -d "$dir/node_modules"
done
[ "$fail" -eq 0 ] || exit 1

deb() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null || echo "?"; }
npmpkg() { node -e "console.log(require('./$1/node_modules/$2/package.json').version)" 2>/dev/null || echo "?"; }
echo "php $(php -r 'echo PHP_VERSION;') (xmlrpc extension $(php -r 'echo phpversion("xmlrpc");'), Debian php-xmlrpc $(deb php-xmlrpc))"
echo "ruby $(ruby -e 'print RUBY_VERSION') (xmlrpc $(deb ruby-xmlrpc), webrick $(ruby -rwebrick -e 'print WEBrick::VERSION'), bunny $(ruby -rbunny -e 'print Bunny::VERSION'), amq-protocol $(ruby -rbunny -e 'print AMQ::Protocol::VERSION'))"
echo "node $(node --version) npm $(npm --version) (xmlrpc $(npmpkg xmlrpc/testdata/peers/node xmlrpc), amqplib $(npmpkg amqp/testdata/peers/node amqplib))"
echo "python $(/usr/bin/python3 -c 'import sys; print(sys.version.split()[0])') (pika $(/usr/bin/python3 -c 'import pika; print(pika.__version__)'))"
