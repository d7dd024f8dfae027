#!/usr/bin/env bash
# Prepares this host for berth: Debian packages, the cgroup layout crun needs, node_modules, the build.
# Idempotent and quiet when there is nothing to do. Used by `npm start` and `npm test`.
#   BERTH_SETUP_EXTRA_PACKAGES="podman debootstrap"   more packages (benchmarks)
#   BERTH_SKIP_BUILD=1                                 skip the build step
set -euo pipefail
cd "$(dirname "$0")/.."

say() { echo "host-setup: $*" >&2; }
die() { echo "host-setup: error: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "berth runs containers and needs root (mounts, namespaces, cgroups); run as root or with sudo"
[ "$(uname -s)" = Linux ] || die "berth needs Linux"

# Debian packages berth uses at run time and in its tests.
PACKAGES="nats-server crun runc conmon catatonit tini containernetworking-plugins iptables iproute2 busybox-static attr libcap2-bin \
skopeo umoci docker-registry apache2-utils util-linux procps ${BERTH_SETUP_EXTRA_PACKAGES:-}"
missing=()
for p in $PACKAGES; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  say "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null || die "apt-get update failed"
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || die "apt-get install ${missing[*]} failed"
fi

# crun 1.8 refuses a hybrid cgroup host whose cgroup2 holds controllers (hugetlb lands there on some
# hosts): mount hugetlb as a v1 hierarchy, as a systemd hybrid host has it.
if [ -d /sys/fs/cgroup/unified ] && grep -qw hugetlb /proc/cgroups && ! grep -q ' /sys/fs/cgroup/hugetlb ' /proc/mounts; then
  say "mounting the hugetlb cgroup v1 hierarchy (crun needs it on hybrid hosts)"
  mkdir -p /sys/fs/cgroup/hugetlb 2>/dev/null || mount -o remount,rw /sys/fs/cgroup
  mkdir -p /sys/fs/cgroup/hugetlb
  mount -t cgroup -o hugetlb cgroup /sys/fs/cgroup/hugetlb || say "warning: could not mount the hugetlb hierarchy"
fi
modprobe overlay 2>/dev/null || true
grep -qw overlay /proc/filesystems || die "the kernel has no overlay filesystem"

# node_modules: install when missing or older than the lockfile.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "npm ci (native modules compile from source: about two minutes)"
  npm_config_build_from_source=true npm ci --no-fund --no-audit --loglevel=error >/dev/null || die "npm ci failed"
fi

if [ -z "${BERTH_SKIP_BUILD:-}" ]; then
  export NX_DAEMON=false NX_NO_CLOUD=true NX_TUI=false
  if ! out=$(npx nx run-many -t build --output-style=static 2>&1); then
    echo "$out" >&2
    die "build failed"
  fi
fi
