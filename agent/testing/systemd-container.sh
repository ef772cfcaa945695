#!/bin/bash
# Boots systemd as PID 1 of its own PID, mount and cgroup namespaces, on the host's /usr:
# a throwaway container in which agent/cactus-agent.service runs for real, with all its
# sandboxing, without touching the host's systemd (if it has one) or its files.
# Test-only (agent/cactus-agent-service.test.ts); needs root.
#
#   systemd-container.sh UNIT_DIR USER UID
#
# UNIT_DIR holds the units to install (*.service, *.target) and cactus-check.target, the
# one systemd starts. USER (UID) is added to this namespace's /etc/passwd only. The caller
# kills PID 1 (this script's only child, as seen from the host) when it has seen enough,
# and removes the cgroups named cactus-unit-test-<this script's PID>.
set -euo pipefail

if [ "${1:-}" = "--inside" ]; then
  shift
  unit_dir=$1 user=$2 uid=$3
  mount -t proc proc /proc
  mount -t tmpfs tmpfs /run
  # systemd makes the unit's CacheDirectory= here, not in the host's /var/cache.
  mount -t tmpfs tmpfs /var/cache
  # The cgroup namespace's own view: this container's cgroup is the root.
  if [ "$(stat -fc %T /sys/fs/cgroup)" = cgroup2fs ]; then
    mount -t cgroup2 cgroup2 /sys/fs/cgroup
  else
    mount -t tmpfs tmpfs /sys/fs/cgroup
  fi
  [ "$(stat -fc %T /sys/fs/cgroup)" = cgroup2fs ] || while IFS=: read -r _ controllers _; do
    case "$controllers" in
      "") mkdir -p /sys/fs/cgroup/unified && mount -t cgroup2 cgroup2 /sys/fs/cgroup/unified ;;
      name=systemd) mkdir -p /sys/fs/cgroup/systemd && mount -t cgroup -o none,name=systemd cgroup /sys/fs/cgroup/systemd ;;
      *) mkdir -p "/sys/fs/cgroup/$controllers" && mount -t cgroup -o "$controllers" cgroup "/sys/fs/cgroup/$controllers" ;;
    esac
  done < /proc/self/cgroup
  mkdir -p /run/container-etc
  cp /etc/passwd /etc/group /run/container-etc/
  echo "$user:x:$uid:$uid::/var/cache/$user:/usr/sbin/nologin" >> /run/container-etc/passwd
  echo "$user:x:$uid:" >> /run/container-etc/group
  mount --bind /run/container-etc/passwd /etc/passwd
  mount --bind /run/container-etc/group /etc/group
  mount -t tmpfs tmpfs /etc/systemd/system
  cp "$unit_dir"/*.service "$unit_dir"/*.target /etc/systemd/system/
  exec env container=cactus-unit-test /lib/systemd/systemd --system --unit=cactus-check.target --log-target=console
fi

unit_dir=$1 user=$2 uid=$3
name=cactus-unit-test-$$
# A cgroup of its own below this process's, in every hierarchy, for the namespace's root.
while IFS=: read -r _ controllers path; do
  case "$controllers" in
    "") hierarchy=/sys/fs/cgroup/unified; [ -d "$hierarchy" ] || hierarchy=/sys/fs/cgroup ;;
    name=systemd) hierarchy=/sys/fs/cgroup/systemd ;;
    *) hierarchy=/sys/fs/cgroup/$controllers ;;
  esac
  [ -d "$hierarchy" ] || continue
  parent="$hierarchy${path%/}"
  mkdir -p "$parent/$name"
  if [ -f "$parent/cpuset.cpus" ]; then
    cat "$parent/cpuset.cpus" > "$parent/$name/cpuset.cpus"
    cat "$parent/cpuset.mems" > "$parent/$name/cpuset.mems"
  fi
  echo $$ > "$parent/$name/cgroup.procs"
done < /proc/self/cgroup
exec unshare --cgroup --pid --mount --fork --propagation private "$0" --inside "$unit_dir" "$user" "$uid"
