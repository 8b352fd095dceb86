#!/bin/sh
# verify-signatures.sh: check files downloaded from the site named below
# (site_title) with OpenSSL.
#
# Usage: sh verify-signatures.sh [--trust-key] [DIR] [PUBLIC_KEY]
#   DIR          folder of downloads (default: the current folder)
#   PUBLIC_KEY   the site's public key (default: DIR/$key_name, then ./$key_name)
#   --trust-key  accept a PUBLIC_KEY whose fingerprint is not the site key's
#                (the same as PACKSTUDIO_TRUST_ANY_KEY=1 in the environment)
#   -h, --help   print this help
#
# The key must be the site's: its SHA-256 fingerprint (of the DER form) must
# be site_key_id below, or the script stops with status 1 before checking
# anything, since a key that came with the downloads proves nothing if it was
# swapped with them. Only --trust-key or PACKSTUDIO_TRUST_ANY_KEY=1 make it
# check with another key, and then it warns.
#
# Each NAME.sig.bin is checked against NAME.zst, or NAME when there is no
# NAME.zst; a .zst, .iso or .tgz without its signature is reported; and
# SHA256SUMS (or SHA256SUMS.txt, as some browsers save it), when DIR has one,
# is checked with sha256sum -c.
# Exit status: 0 when everything verifies, 1 when anything fails or the key
# is not the site's, 2 on bad usage.
set -u

# The site's values, each one shell-quoted by the build.
site_title={{.Title}}
key_name={{.PublicKeyName}}
site_key_id={{.KeyID}}

usage() {
	cat <<USAGE
Usage: sh verify-signatures.sh [--trust-key] [DIR] [PUBLIC_KEY]
Check the signatures (and SHA256SUMS) of files downloaded from $site_title.

  DIR          folder of downloads (default: the current folder)
  PUBLIC_KEY   the site's public key (default: DIR/$key_name, then ./$key_name)
  --trust-key  accept a PUBLIC_KEY whose fingerprint is not the site key's
               (the same as PACKSTUDIO_TRUST_ANY_KEY=1 in the environment)
  -h, --help   print this help

The site key's SHA-256 fingerprint is
  $site_key_id
A PUBLIC_KEY with another fingerprint is refused (exit status 1) unless
--trust-key or PACKSTUDIO_TRUST_ANY_KEY=1 says to trust it.
Exit status: 0 when everything verifies, 1 when anything fails or the key is
not the site's, 2 on bad usage.
USAGE
}

trust=0
[ "${PACKSTUDIO_TRUST_ANY_KEY:-}" = 1 ] && trust=1
dir=
key=
n=0
while [ $# -gt 0 ]; do
	case $1 in
	-h | --help) usage; exit 0 ;;
	--trust-key) trust=1 ;;
	--) shift; break ;;
	-?*) echo "verify-signatures.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
	*)
		n=$((n + 1))
		case $n in
		1) dir=$1 ;;
		2) key=$1 ;;
		*) echo "verify-signatures.sh: too many arguments (see --help)" >&2; exit 2 ;;
		esac
		;;
	esac
	shift
done
for arg in "$@"; do
	n=$((n + 1))
	case $n in
	1) dir=$arg ;;
	2) key=$arg ;;
	*) echo "verify-signatures.sh: too many arguments (see --help)" >&2; exit 2 ;;
	esac
done
dir=${dir:-.}

if [ -z "$key" ]; then
	if [ -f "$dir/$key_name" ]; then key="$dir/$key_name"; else key="./$key_name"; fi
fi
command -v openssl >/dev/null 2>&1 || { echo "verify-signatures.sh: openssl is not installed" >&2; exit 2; }
[ -d "$dir" ] || { echo "verify-signatures.sh: $dir is not a folder" >&2; exit 2; }
[ -f "$key" ] || { echo "verify-signatures.sh: public key $key not found; download $key_name from $site_title" >&2; exit 2; }

openssl pkey -pubin -in "$key" -noout 2>/dev/null || { echo "verify-signatures.sh: $key is not a public key that openssl can read" >&2; exit 2; }
key_id=$(openssl pkey -pubin -in "$key" -outform DER | openssl dgst -sha256 -r | cut -d' ' -f1)
if [ "$key_id" = "$site_key_id" ]; then
	echo "OK       key $key: fingerprint $key_id is the site key's"
elif [ "$trust" -eq 1 ]; then
	warn="WARNING  key $key is NOT the site key: its fingerprint is $key_id, the site key's is $site_key_id; checking with it all the same because you said to trust it (--trust-key or PACKSTUDIO_TRUST_ANY_KEY=1): an OK below means only that this key signed the files"
	echo "$warn"
	echo "$warn" >&2
else
	echo "FAILED   key $key has fingerprint $key_id, not the site key $site_key_id" >&2
	echo "verify-signatures.sh: refusing to check with a key that is not the site's: a key that came with the downloads may have been swapped with them. Get $key_name from $site_title and compare its fingerprint, or, if you trust this key, run again with --trust-key (or PACKSTUDIO_TRUST_ANY_KEY=1)" >&2
	exit 1
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

# Browsers may save SHA256SUMS as SHA256SUMS.txt; either name is checked.
if command -v sha256sum >/dev/null 2>&1; then sums="sha256sum -c"; else sums="shasum -a 256 -c"; fi
checked=0
for list in SHA256SUMS SHA256SUMS.txt; do
	[ -f "$dir/$list" ] || continue
	checked=1
	if (cd "$dir" && $sums "$list" >/dev/null); then
		echo "OK       $list"
	else
		echo "FAILED   $list: some files do not match (run: cd $dir && $sums $list)"
		failed=$((failed + 1))
	fi
done
if [ "$checked" -eq 0 ]; then
	echo "NOTE     no SHA256SUMS or SHA256SUMS.txt in $dir: checksums not checked, only signatures"
fi

if [ "$ok" -eq 0 ] && [ "$failed" -eq 0 ]; then
	echo "verify-signatures.sh: no .sig.bin files in $dir" >&2
	exit 1
fi
if [ "$key_id" = "$site_key_id" ]; then
	echo "$ok verified, $failed failed"
else
	echo "$ok verified with a key that is NOT the site key ($key_id), $failed failed"
fi
[ "$failed" -eq 0 ]
