#!/usr/bin/env bash
# docs/api.yaml, the OpenAPI description of mmvm's API: valid OpenAPI 3
# (checked by @apidevtools/swagger-parser from the npm registry, pinned,
# installed once into ${MMVM_CACHE:-/var/cache/mmvm}/npm/openapi), every
# path it names routed by src/api/router.c, and every endpoint the router
# serves described. A broken copy must fail the validator (it can fail).
set -u
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
work=$(mktemp -d "${TMPDIR:-/tmp}/$name.XXXXXX")
trap 'rm -rf "$work"' EXIT
spec=$repo/docs/api.yaml
router=$repo/src/api/router.c
parser_version=10.1.1
prefix=${MMVM_CACHE:-/var/cache/mmvm}/npm/openapi-$parser_version

command -v node >/dev/null && command -v npm >/dev/null ||
	{ fail "node and npm are needed (scripts/install-deps installs them)"; finish; }
if [ ! -d "$prefix/node_modules/@apidevtools/swagger-parser" ]; then
	mkdir -p "$prefix"
	if ! npm install --prefix "$prefix" --no-audit --no-fund --loglevel=error \
		"@apidevtools/swagger-parser@$parser_version" >"$work/npm.log" 2>&1; then
		fail "npm install @apidevtools/swagger-parser@$parser_version:"
		sed 's/^/    /' "$work/npm.log" | tail -n 20
		finish
	fi
fi
validate() {
	NODE_PATH=$prefix/node_modules node -e '
		const p = require("@apidevtools/swagger-parser");
		p.validate(process.argv[1]).then(
			api => { console.log(api.info.title + " " + api.info.version +
					 ": " + Object.keys(api.paths).length + " paths"); },
			e => { console.error(e.message.split("\n")[0]); process.exit(1); });
	' "$1"
}
if out=$(validate "$spec" 2>&1); then
	pass "docs/api.yaml is valid OpenAPI ($out)"
else
	fail "docs/api.yaml: $out"
fi
# A copy with an operation that has no responses must be refused.
sed '0,/^      responses:$/s//      x-responses:/' "$spec" >"$work/broken.yaml"
if out=$(validate "$work/broken.yaml" 2>&1); then
	fail "the validator accepted an operation without responses"
else
	pass "the validator refuses a broken copy ($out)"
fi

# Paths: /drives/{drive_id} is routed as the prefix "/drives/".
paths=$(grep -E '^  /[^ ]*:$' "$spec" | sed -E 's/^  (.*):$/\1/')
for p in $paths; do
	r=${p%%\{*}
	if grep -qF "\"$r\"" "$router"; then
		pass "routed: $p"
	else
		fail "docs/api.yaml names $p, src/api/router.c does not route \"$r\""
	fi
done
for r in $(grep -oE 'strcmp\(p, "/[^"]*"\)|path_id\(p, "/[^"]*"\)' "$router" |
	   sed -E 's/.*"(.*)".*/\1/' | sort -u); do
	if grep -qE "^  ${r//\//\\/}(\{[a-z_]+\})?:\$" "$spec"; then
		pass "described: $r"
	else
		fail "src/api/router.c serves $r, docs/api.yaml does not describe it"
	fi
done
finish
