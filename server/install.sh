#!/bin/sh
# Installs @COMMAND@ @VERSION@ of the Blender Cactus farm at @SERVER@, from the farm itself:
#
#     curl -fsSL @SERVER@/@ROUTE@/install.sh | sh -s -- [options]
#
# It needs Node 20 or newer (and, for the agent, Blender). Nothing comes from a package
# registry: the command is one file the farm built with every dependency inside, checked
# against its sha256 below. The server fills in the @…@ values when it serves this script.
set -eu

SERVER='@SERVER@'
COMMAND='@COMMAND@'
ROUTE='@ROUTE@'
VERSION='@VERSION@'
BUNDLE='@BUNDLE@'
SHA256='@SHA256@'

usage() {
  if [ "$COMMAND" = cactus-agent ]; then
    cat <<EOF
Installs cactus-agent, the Blender Cactus worker, from $SERVER.

  curl -fsSL $SERVER/agent/install.sh | sh -s -- --token ccw_…        # as you: ~/.local/bin/cactus-agent
  curl -fsSL $SERVER/agent/install.sh | sudo sh -s -- --token ccw_…   # as root: a systemd service

Options:
  --token TOKEN   the worker's token, from the Workers page or \`cactus worker create NAME\`
                  (else CACTUS_WORKER_TOKEN); kept in the agent's config file, readable by it alone
  --user          install for this user even as root: ~/.local, ~/.config/cactus/agent.json, no service
  --no-start      as root, install and enable the service but do not start it now
  --no-doctor     skip \`cactus-agent doctor\` (Blender, sandbox, server and token checks) at the end
  -h, --help      this text

As root it installs /usr/local/bin/cactus-agent, the config /etc/cactus/agent.json (mode 0640,
group cactus-agent), a system user cactus-agent and the unit cactus-agent.service, and starts it.
EOF
  else
    cat <<EOF
Installs cactus, the Blender Cactus command line, from $SERVER.

  curl -fsSL $SERVER/cli/install.sh | sh                 # as you: ~/.local/bin/cactus
  curl -fsSL $SERVER/cli/install.sh | sudo sh            # as root: /usr/local/bin/cactus

Options:
  --user          install for this user even as root (~/.local)
  -h, --help      this text
EOF
  fi
}

say() { printf '%s\n' "$*" >&2; }
fail() {
  say "Error: $*"
  exit 1
}

TOKEN=${CACTUS_WORKER_TOKEN:-}
MODE=system
[ "$(id -u)" = 0 ] || MODE=user
START=yes
DOCTOR=yes
while [ $# -gt 0 ]; do
  case $1 in
    --token) [ $# -ge 2 ] || fail "--token needs the worker's token (ccw_…)."; TOKEN=$2; shift 2 ;;
    --token=*) TOKEN=${1#--token=}; shift ;;
    --user) MODE=user; shift ;;
    --no-start) START=no; shift ;;
    --no-doctor) DOCTOR=no; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; fail "unknown option $1" ;;
  esac
done

if [ "$COMMAND" = cactus-agent ]; then
  case $TOKEN in
    ccw_*) ;;
    "") fail "no worker token: pass --token ccw_… (the Workers page shows the whole line when you create a worker)." ;;
    *) fail "\"$TOKEN\" is not a worker token: they start with ccw_ (a user's API token starts with cct_)." ;;
  esac
fi

command -v node >/dev/null 2>&1 || fail "Node is not installed: install Node 20 or newer (Debian: sudo apt-get install nodejs), then run this again."
node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)' ||
  fail "Node $(node --version) is too old: $COMMAND needs Node 20 or newer."

fetch() {
  if command -v curl >/dev/null 2>&1; then curl -fsSL "$1" -o "$2"
  elif command -v wget >/dev/null 2>&1; then wget -q "$1" -O "$2"
  else fail "neither curl nor wget is installed."
  fi
}

if [ "$MODE" = system ]; then
  LIB=/usr/local/lib/$COMMAND
  BIN=/usr/local/bin
else
  [ -n "${HOME:-}" ] || fail "HOME is not set."
  LIB=$HOME/.local/lib/$COMMAND
  BIN=$HOME/.local/bin
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
say "Downloading $COMMAND $VERSION from $SERVER…"
fetch "$SERVER/$ROUTE/$BUNDLE" "$work/$BUNDLE" || fail "could not download $SERVER/$ROUTE/$BUNDLE."
got=$(node -e 'const c=require("node:crypto"),f=require("node:fs");process.stdout.write(c.createHash("sha256").update(f.readFileSync(process.argv[1])).digest("hex"))' "$work/$BUNDLE")
[ "$got" = "$SHA256" ] || fail "the download's sha256 is $got, not $SHA256: it was cut or changed on the way. Nothing was installed."

mkdir -p "$LIB" "$BIN"
install -m 0755 "$work/$BUNDLE" "$LIB/$BUNDLE"
{
  echo "#!/bin/sh"
  echo "# $COMMAND $VERSION of the Blender Cactus farm at $SERVER (installed from $SERVER/$ROUTE/install.sh)."
  if [ "$COMMAND" = cactus-agent ] && [ "$MODE" = user ]; then
    # Installed for one user (root too, with --user): its settings and cache in that home.
    echo ": \"\${CACTUS_AGENT_CONFIG:=$HOME/.config/cactus/agent.json}\" \"\${CACTUS_AGENT_CACHE:=$HOME/.cache/cactus-agent}\""
    echo "export CACTUS_AGENT_CONFIG CACTUS_AGENT_CACHE"
  fi
  echo "exec node \"$LIB/$BUNDLE\" \"\$@\""
} >"$work/$COMMAND"
install -m 0755 "$work/$COMMAND" "$BIN/$COMMAND"
say "Installed $BIN/$COMMAND ($VERSION)."

if [ "$COMMAND" = cactus ]; then
  case ":$PATH:" in *":$BIN:"*) run=cactus ;; *) run=$BIN/cactus ;; esac
  say ""
  say "Sign in:  $run login --server $SERVER --username YOU"
  exit 0
fi

# The agent's settings, for it alone to read (the token lets anyone render as this worker).
config_json() {
  node -e 'process.stdout.write(JSON.stringify({ server: process.argv[1], token: process.argv[2] }, null, 2) + "\n")' "$SERVER" "$TOKEN"
}

if [ "$MODE" = user ]; then
  CONFIG=$HOME/.config/cactus/agent.json
  mkdir -p "$(dirname "$CONFIG")"
  (umask 077 && config_json >"$CONFIG")
  chmod 0600 "$CONFIG"
  say "Saved the server and the worker's token in $CONFIG (mode 0600)."
  case ":$PATH:" in *":$BIN:"*) run=cactus-agent ;; *) run=$BIN/cactus-agent ;; esac
  command -v "${CACTUS_BLENDER:-blender}" >/dev/null 2>&1 ||
    say "Blender is not on the PATH: install it (Debian: sudo apt-get install blender) or set CACTUS_BLENDER to its path."
  if [ "$DOCTOR" = yes ]; then "$BIN/cactus-agent" doctor || say "doctor found trouble (above); fix it, then check again with: $run doctor"; fi
  say ""
  say "Start rendering:  $run"
  say "(Ctrl-C stops it: it finishes or releases its frame. \`$run --help\` lists its settings.)"
  exit 0
fi

# As root: a system user, the config readable by its group, and the systemd unit.
getent group cactus-agent >/dev/null 2>&1 || groupadd --system cactus-agent
id -u cactus-agent >/dev/null 2>&1 ||
  useradd --system --gid cactus-agent --home-dir /var/cache/cactus-agent --shell /usr/sbin/nologin cactus-agent
CONFIG=/etc/cactus/agent.json
install -d -m 0755 /etc/cactus
(umask 027 && config_json >"$work/agent.json")
install -m 0640 -o root -g cactus-agent "$work/agent.json" "$CONFIG"
say "Saved the server and the worker's token in $CONFIG (mode 0640, group cactus-agent)."
fetch "$SERVER/agent/cactus-agent.service" "$work/cactus-agent.service" || fail "could not download the systemd unit."
install -m 0644 "$work/cactus-agent.service" /etc/systemd/system/cactus-agent.service
command -v bwrap >/dev/null 2>&1 ||
  say "bubblewrap is not installed: Blender will run without a sandbox (Debian: sudo apt-get install bubblewrap, then restart the service)."
if [ "$DOCTOR" = yes ]; then
  CACTUS_AGENT_CACHE=$work/doctor-cache "$BIN/cactus-agent" doctor || say "doctor found trouble (above); the service will say the same in its log."
fi
if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
  systemctl daemon-reload
  if [ "$START" = yes ]; then
    systemctl enable --now cactus-agent.service
    say "The service cactus-agent is running. Its log: journalctl -u cactus-agent -f"
  else
    systemctl enable cactus-agent.service
    say "The service cactus-agent is enabled; start it with: systemctl start cactus-agent"
  fi
else
  say "systemd is not running here: the unit is in /etc/systemd/system/cactus-agent.service for when it does."
  say "Start the agent by hand meanwhile:  cactus-agent"
fi
