#!/bin/sh
# verify-signatures.sh: check files downloaded from the site named below
# (site_title) with OpenSSL.
#
# Usage: sh verify-signatures.sh [DIR] [PUBLIC_KEY]
#   DIR         folder of downloads (default: the current folder)
#   PUBLIC_KEY  the site's public key (default: DIR/$key_name, then ./$key_name)
#
# Each NAME.sig.bin is checked against NAME.zst, or NAME when there is no
# NAME.zst; a .zst, .iso or .tgz without its signature is reported; and
# SHA256SUMS, when DIR has one, is checked with sha256sum -c.
# Exit status: 0 when everything verifies, 1 when anything fails, 2 on bad usage.
set -u

# The site's values, each one shell-quoted by the build.
site_title='Test packs'
key_name='public_key.pem'
site_key_id='2f48af3f1ebad3cb2ab871995e6513457b4698e90a2abf40c8cdb18b45a5c29c'

dir=${1:-.}
key=${2:-}

if [ -z "$key" ]; then
	if [ -f "$dir/$key_name" ]; then key="$dir/$key_name"; else key="./$key_name"; fi
fi
command -v openssl >/dev/null 2>&1 || { echo "verify-signatures.sh: openssl is not installed" >&2; exit 2; }
[ -d "$dir" ] || { echo "verify-signatures.sh: $dir is not a folder" >&2; exit 2; }
[ -f "$key" ] || { echo "verify-signatures.sh: public key $key not found; download $key_name from $site_title" >&2; exit 2; }

key_id=$(openssl pkey -pubin -in "$key" -outform DER 2>/dev/null | openssl dgst -sha256 -r | cut -d' ' -f1)
if [ "$key_id" != "$site_key_id" ]; then
	echo "NOTE     $key has fingerprint $key_id, not the site key $site_key_id"
fi

ok=0
failed=0
for sig in "$dir"/*.sig.bin; do
	[ -e "$sig" ] || continue
	base=${sig%.sig.bin}
	if [ -f "$base.zst" ]; then
		file=$base.zst
	elif [ -f "$base" ]; then
		file=$base
	else
		echo "MISSING  ${base##*/}(.zst): signature ${sig##*/} has no file"
		failed=$((failed + 1))
		continue
	fi
	if openssl dgst -sha256 -verify "$key" -signature "$sig" "$file" >/dev/null 2>&1; then
		echo "OK       ${file##*/}"
		ok=$((ok + 1))
	else
		echo "FAILED   ${file##*/}: signature ${sig##*/} does not verify"
		failed=$((failed + 1))
	fi
done

for file in "$dir"/*.zst "$dir"/*.iso "$dir"/*.tgz; do
	[ -e "$file" ] || continue
	case $file in
	*.zst) sig=${file%.zst}.sig.bin ;;
	*) sig=$file.sig.bin ;;
	esac
	if [ ! -f "$sig" ]; then
		echo "UNSIGNED ${file##*/}: no ${sig##*/}"
		failed=$((failed + 1))
	fi
done

if [ -f "$dir/SHA256SUMS" ]; then
	if command -v sha256sum >/dev/null 2>&1; then sums="sha256sum -c"; else sums="shasum -a 256 -c"; fi
	if (cd "$dir" && $sums SHA256SUMS >/dev/null); then
		echo "OK       SHA256SUMS"
	else
		echo "FAILED   SHA256SUMS: some files do not match (run: cd $dir && $sums SHA256SUMS)"
		failed=$((failed + 1))
	fi
fi

if [ "$ok" -eq 0 ] && [ "$failed" -eq 0 ]; then
	echo "verify-signatures.sh: no .sig.bin files in $dir" >&2
	exit 1
fi
echo "$ok verified, $failed failed"
[ "$failed" -eq 0 ]
