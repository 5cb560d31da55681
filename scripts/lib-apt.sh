# Sourced by the set-up scripts: Debian package checks and installs.

# Prints the packages of the argument list that are not installed.
apt_missing() {
    installed=" $(dpkg-query -W -f='${Package} ${db:Status-Abbrev}\n' "$@" 2>/dev/null \
                  | awk '$2 == "ii" { printf "%s ", $1 }')"
    for p in "$@"; do
        case "$installed" in
        *" $p "*) ;;
        *) printf '%s ' "$p" ;;
        esac
    done
}

# Installs missing packages as root (apt-get update first); fails with the command otherwise.
apt_require() {
    missing=$(apt_missing "$@")
    [ -z "$missing" ] && return 0
    if [ "$(id -u)" -ne 0 ]; then
        echo "missing Debian packages; as root run:" >&2
        echo "  apt-get update && apt-get install -y $missing" >&2
        return 1
    fi
    echo "installing: $missing"
    apt-get update -qq
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing
}

# Makes 'apt-get source' work: as root adds deb-src entries for this release when absent.
apt_require_sources() {
    apt-cache showsrc busybox >/dev/null 2>&1 && apt-cache showsrc busybox | grep -q '^Package:' \
        && return 0
    codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")
    list=/etc/apt/sources.list.d/vessel-deb-src.sources
    if [ "$(id -u)" -ne 0 ]; then
        echo "apt-get source needs deb-src entries; as root write $list with:" >&2
        printf '  Types: deb-src\n  URIs: http://deb.debian.org/debian\n  Suites: %s\n  Components: main\n' \
            "$codename" >&2
        echo "and run apt-get update" >&2
        return 1
    fi
    echo "adding deb-src entries in $list"
    cat > "$list" <<EOT
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: $codename
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOT
    apt-get update -qq
}
