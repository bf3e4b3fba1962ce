#!/usr/bin/env bash
# Prepares a machine for `npm start` / `npm test` (called from prestart/pretest).
# Idempotent: when everything is already in place it only checks, in well under 2 s.
#
#   1. node_modules   npm ci (or npm install) if missing or older than package-lock.json
#   2. (optional)     SETUP_USE_DOCKER=1 + running engine: docker compose up -d --wait postgres redis
#   3. Postgres       reachable at DATABASE_URL / PGHOST:PGPORT? else start the stopped local
#                     cluster, or create one, or apt-install postgresql (dev trust auth)
#   4. pgvector       >= 0.8 available? else apt postgresql-<major>-pgvector, else build
#                     Debian's (trixie) pgvector source package for the server's major version
#   5. databases      app db (DATABASE_URL name / PGDATABASE, default ingest) and test db
#                     (TEST_DATABASE / TEST_DATABASE_URL name, default ingest_test), each with
#                     CREATE EXTENSION vector (as superuser)
#   6. Redis          reachable at REDIS_URL (default redis://127.0.0.1:6379)? else apt-install
#                     redis-server if needed and start it daemonized; check maxmemory-policy
#
# Environment knobs:
#   DATABASE_URL | PGHOST PGPORT PGUSER PGPASSWORD PGDATABASE   app database (as the app reads it)
#   TEST_DATABASE (name) | TEST_DATABASE_URL (only its db name is used)   default ingest_test
#   SETUP_PG_SUPERUSER (default postgres), SETUP_PG_SUPERUSER_PASSWORD
#   REDIS_URL
#   SETUP_USE_DOCKER=1        use docker compose for postgres+redis when an engine is running
#   SETUP_SKIP_NPM=1          do not touch node_modules
#   SETUP_DEBIAN_MIRROR=url   Debian mirror for the pgvector source package (default: read from apt sources)
#   SETUP_PGVECTOR_MIN        minimum pgvector version (default 0.8.0)
set -Eeuo pipefail

T0=${EPOCHREALTIME/[.,]/}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

STEP="init"
log()  { printf '[setup] %s\n' "$*"; }
warn() { printf '[setup] WARNING: %s\n' "$*" >&2; }
die()  { printf '[setup] ERROR (%s): %s\n' "$STEP" "$*" >&2; exit 1; }
step() { STEP=$1; log "== $1"; }
on_err() {
  local rc=$? line=$1 cmd=$2
  printf '[setup] ERROR (%s): command failed with exit code %d at scripts/setup.sh:%s: %s\n' \
    "$STEP" "$rc" "$line" "$cmd" >&2
}
trap 'on_err "$LINENO" "$BASH_COMMAND"' ERR

LOG_DIR=${SETUP_LOG_DIR:-${TMPDIR:-/tmp}}
SETUP_LOG="$LOG_DIR/ingest-setup.$(id -u).log"

# Run a noisy command with its output going to $SETUP_LOG; on failure show the tail and die.
run_logged() {
  local what=$1; shift
  printf '\n### %s: %s\n' "$(date '+%F %T')" "$*" >>"$SETUP_LOG"
  if ! "$@" </dev/null >>"$SETUP_LOG" 2>&1; then
    printf '[setup] ---- last lines of %s ----\n' "$SETUP_LOG" >&2
    tail -n 25 "$SETUP_LOG" | sed 's/^/[setup]   /' >&2
    die "$what failed (full log: $SETUP_LOG)"
  fi
}

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo -n "$@"
  else die "root privileges needed for: $* (run as root, configure passwordless sudo, or provide the service yourself)"
  fi
}

have() { command -v "$1" >/dev/null 2>&1; }
# version_ge A B: A >= B (dotted versions)
version_ge() { [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n1)" = "$2" ]; }
is_local_host() { case "$1" in ''|127.0.0.1|localhost|::1|\[::1\]|/*) return 0;; *) return 1;; esac; }
tcp_open() { timeout 2 bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$1" "$2" 2>/dev/null; }

export DEBIAN_FRONTEND=noninteractive
APT_OPTS=(-y -q -o DPkg::Lock::Timeout=300 -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)
APT_UPDATED=0
apt_update_once() {
  [ "$APT_UPDATED" = 1 ] && return 0
  have apt-get || die "apt-get not found: this script can only install packages on Debian/Ubuntu"
  log "apt-get update"
  run_logged "apt-get update" as_root apt-get -q -o DPkg::Lock::Timeout=300 update
  APT_UPDATED=1
}
apt_install() {
  apt_update_once
  log "apt-get install $*"
  run_logged "apt-get install $*" as_root apt-get install "${APT_OPTS[@]}" --no-install-recommends "$@"
}
pkg_installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q '^install ok installed$'; }

# ---------------------------------------------------------------- configuration
# Parsed with node exactly like src/config/app-config.ts does.
STEP="read configuration"
if [ -z "${DATABASE_URL:-}${TEST_DATABASE_URL:-}${REDIS_URL:-}" ]; then
  # fast path (no URLs to parse): same defaults as app-config.ts
  PG_HOST=${PGHOST:-127.0.0.1} PG_PORT=${PGPORT:-5432} PG_USER=${PGUSER:-postgres} PG_PASSWORD=${PGPASSWORD:-}
  APP_DB=${PGDATABASE:-ingest} TEST_DB=${TEST_DATABASE:-ingest_test}
  REDIS_URL_EFF=redis://127.0.0.1:6379 REDIS_TLS=0 REDIS_HOST=127.0.0.1 REDIS_PORT=6379 REDIS_USER="" REDIS_PASSWORD=""
else
CONF=$(node -e '
  const e = process.env, out = {};
  const u = (s) => { try { return new URL(s); } catch { console.error("invalid URL in environment: " + s); process.exit(2); } };
  const d = (s) => decodeURIComponent(s || "");
  if (e.DATABASE_URL) {
    const x = u(e.DATABASE_URL);
    out.PG_HOST = x.hostname.replace(/^\[|\]$/g, "") || "127.0.0.1"; out.PG_PORT = x.port || "5432";
    out.PG_USER = d(x.username) || "postgres"; out.PG_PASSWORD = d(x.password);
    out.APP_DB = d(x.pathname.replace(/^\//, "")) || "ingest";
    const h = x.searchParams.get("host"); if (h) out.PG_HOST = h;
  } else {
    out.PG_HOST = e.PGHOST || "127.0.0.1"; out.PG_PORT = e.PGPORT || "5432";
    out.PG_USER = e.PGUSER || "postgres"; out.PG_PASSWORD = e.PGPASSWORD || "";
    out.APP_DB = e.PGDATABASE || "ingest";
  }
  out.TEST_DB = e.TEST_DATABASE_URL ? (d(u(e.TEST_DATABASE_URL).pathname.replace(/^\//, "")) || "ingest_test")
                                    : (e.TEST_DATABASE || "ingest_test");
  const r = u(e.REDIS_URL || "redis://127.0.0.1:6379");
  const shown = new URL(r.href); if (shown.password) shown.password = "***"; out.REDIS_URL_EFF = shown.href; out.REDIS_TLS = r.protocol === "rediss:" ? "1" : "0";
  out.REDIS_HOST = r.hostname.replace(/^\[|\]$/g, "") || "127.0.0.1"; out.REDIS_PORT = r.port || "6379";
  out.REDIS_USER = d(r.username); out.REDIS_PASSWORD = d(r.password);
  for (const [k, v] of Object.entries(out)) {
    if (/[\n\0]/.test(v)) { console.error(k + " contains a newline"); process.exit(2); }
    process.stdout.write(k + "=" + v + "\n");
  }
') || die "could not parse DATABASE_URL/REDIS_URL (see message above)"
while IFS='=' read -r k v; do printf -v "$k" '%s' "$v"; done <<<"$CONF"
fi
PG_SUPERUSER=${SETUP_PG_SUPERUSER:-postgres}
PGVECTOR_MIN=${SETUP_PGVECTOR_MIN:-0.8.0}
export PGCONNECT_TIMEOUT=${PGCONNECT_TIMEOUT:-5}

# ---------------------------------------------------------------- 1. node_modules
step "node dependencies"
if [ "${SETUP_SKIP_NPM:-0}" = 1 ]; then
  log "SETUP_SKIP_NPM=1: not checking node_modules"
else
  reason=""
  if [ ! -d node_modules ]; then reason="node_modules is missing"
  elif [ -f package-lock.json ] && [ ! -f node_modules/.package-lock.json ]; then reason="node_modules was not installed by npm from the lockfile"
  elif [ -f package-lock.json ] && [ package-lock.json -nt node_modules/.package-lock.json ]; then reason="package-lock.json is newer than node_modules"
  elif [ ! -f package-lock.json ] && [ package.json -nt node_modules ]; then reason="package.json is newer than node_modules"
  fi
  if [ -n "$reason" ]; then
    if [ -f package-lock.json ]; then cmd=(npm ci); else cmd=(npm install); fi
    log "$reason -> running '${cmd[*]}' (uses .npmrc; onnxruntime-node CUDA download is skipped)"
    # not run_logged: npm's own progress/errors are useful to see
    ONNXRUNTIME_NODE_INSTALL=skip "${cmd[@]}" --no-audit --no-fund </dev/null || die "'${cmd[*]}' failed (see npm output above)"
    [ -f node_modules/.package-lock.json ] && touch node_modules/.package-lock.json
    log "node_modules installed"
  else
    log "node_modules is up to date with package-lock.json"
  fi
fi

# ---------------------------------------------------------------- 2. docker (optional)
DOCKER_MODE=0
if [ "${SETUP_USE_DOCKER:-0}" = 1 ]; then
  step "docker compose"
  if ! have docker; then
    warn "SETUP_USE_DOCKER=1 but the docker client is not installed; falling back to local services"
  elif ! timeout 10 docker info >/dev/null 2>&1; then
    warn "SETUP_USE_DOCKER=1 but no Docker engine is reachable (docker info failed); falling back to local services"
  else
    if docker compose version >/dev/null 2>&1; then dc=(docker compose)
    elif have docker-compose; then dc=(docker-compose)
    else die "docker engine found but neither 'docker compose' nor 'docker-compose' is available"; fi
    log "starting postgres and redis with '${dc[*]} up -d --wait postgres redis'"
    "${dc[@]}" up -d --wait postgres redis </dev/null || die "'${dc[*]} up' failed"
    DOCKER_MODE=1
    : "${SETUP_PG_SUPERUSER_PASSWORD:=${POSTGRES_PASSWORD:-postgres}}"
  fi
fi

# ---------------------------------------------------------------- 3. Postgres
step "postgres server"
pg_reachable() {
  case "$PG_HOST" in
    /*) [ -S "$PG_HOST/.s.PGSQL.$PG_PORT" ] ;;
    *) tcp_open "$PG_HOST" "$PG_PORT" ;;
  esac
}
wait_pg() {  # wait until the server accepts connections (up to ~30 s)
  local i
  for i in $(seq 1 60); do
    if have pg_isready; then pg_isready -q -h "$PG_HOST" -p "$PG_PORT" -t 1 && return 0
    else pg_reachable && return 0; fi
    sleep 0.5
  done
  return 1
}
# Cluster on $PG_PORT from pg_lsclusters: prints "version name status"
find_cluster() {
  have pg_lsclusters || return 1
  pg_lsclusters -h 2>/dev/null | awk -v p="$PG_PORT" '$3 == p { print $1, $2, $4; found=1; exit } END { exit !found }'
}
HBA_MARK="# ingest-service scripts/setup.sh: development-only trust auth for local connections"
configure_dev_auth() {  # $1 version $2 cluster
  local hba="/etc/postgresql/$1/$2/pg_hba.conf"
  [ -f "$hba" ] || { warn "cannot find $hba; leaving authentication as is"; return 0; }
  if ! grep -qF "$HBA_MARK" "$hba"; then
    log "configuring DEVELOPMENT authentication in $hba: 'trust' for local socket, 127.0.0.1 and ::1"
    log "  (any local user can connect as any role without a password - do not use this for production)"
    as_root bash -c 'f=$1; m=$2; t=$(mktemp); { printf "%s\n" "$m" "local all all trust" "host all all 127.0.0.1/32 trust" "host all all ::1/128 trust" ""; cat "$f"; } >"$t" && cat "$t" >"$f" && rm -f "$t"' _ "$hba" "$HBA_MARK"
    as_root pg_ctlcluster --skip-systemctl-redirect "$1" "$2" reload || true
  fi
}
start_cluster() {  # $1 version $2 cluster
  log "starting Postgres cluster $1/$2: pg_ctlcluster --skip-systemctl-redirect $1 $2 start"
  run_logged "pg_ctlcluster $1 $2 start" as_root pg_ctlcluster --skip-systemctl-redirect "$1" "$2" start
}

if pg_reachable; then
  log "Postgres is reachable at $PG_HOST:$PG_PORT"
elif [ "$DOCKER_MODE" = 1 ]; then
  die "docker compose reported postgres healthy but $PG_HOST:$PG_PORT is not reachable (port mapping? set PGPORT/DATABASE_URL)"
elif ! is_local_host "$PG_HOST"; then
  die "no Postgres reachable at $PG_HOST:$PG_PORT, and it is not a local address, so it cannot be started from here"
else
  log "no Postgres reachable at $PG_HOST:$PG_PORT"
  if cl=$(find_cluster); then
    read -r cver cname cstatus <<<"$cl"
    if [ "$cstatus" = online ]; then
      die "cluster $cver/$cname is online on port $PG_PORT but $PG_HOST:$PG_PORT does not accept connections (check listen_addresses in /etc/postgresql/$cver/$cname/postgresql.conf)"
    fi
    log "found stopped cluster $cver/$cname on port $PG_PORT"
    start_cluster "$cver" "$cname"
  elif have pg_lsclusters && [ -n "$(pg_lsclusters -h 2>/dev/null)" ]; then
    pg_lsclusters >&2 || true
    die "Postgres clusters exist, but none on port $PG_PORT; set PGPORT (or DATABASE_URL) to one of the ports above, or start one there"
  else
    if ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
      log "Postgres is not installed -> installing Debian's 'postgresql' package"
      apt_install postgresql
    fi
    if ! cl=$(find_cluster); then
      ver=$(ls /usr/lib/postgresql | sort -V | tail -n1)
      if [ -n "$(pg_lsclusters -h 2>/dev/null)" ]; then
        # the package created its default cluster on another port: move it to ours
        read -r ver cname _ <<<"$(pg_lsclusters -h | head -n1)"
        log "moving new cluster $ver/$cname to port $PG_PORT"
        as_root pg_ctlcluster --skip-systemctl-redirect "$ver" "$cname" stop 2>/dev/null || true
        as_root pg_conftool "$ver" "$cname" set port "$PG_PORT"
      else
        log "creating Postgres cluster $ver/main on port $PG_PORT"
        run_logged "pg_createcluster" as_root pg_createcluster "$ver" main --port "$PG_PORT"
      fi
      cl=$(find_cluster) || die "could not find the new cluster on port $PG_PORT"
    fi
    read -r cver cname cstatus <<<"$cl"
    configure_dev_auth "$cver" "$cname"
    [ "$cstatus" = online ] || start_cluster "$cver" "$cname"
  fi
  wait_pg || die "Postgres at $PG_HOST:$PG_PORT did not come up (see /var/log/postgresql/)"
  log "Postgres is up at $PG_HOST:$PG_PORT"
fi

if ! have psql; then
  log "psql client not found -> installing postgresql-client"
  apt_install postgresql-client
fi

# Debian's /usr/bin/psql is a Perl wrapper (~100 ms per call): use the newest real binary directly.
PSQL=psql
for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
  [ -x "$d/psql" ] && { PSQL="$d/psql"; break; }
done

# Superuser connection, used for CREATE DATABASE / CREATE EXTENSION.
if [ -n "${SETUP_PG_SUPERUSER_PASSWORD:-}" ]; then ADMIN_PW=$SETUP_PG_SUPERUSER_PASSWORD
elif [ "$PG_USER" = "$PG_SUPERUSER" ]; then ADMIN_PW=$PG_PASSWORD
else ADMIN_PW=""; fi
ADMIN=(env PGPASSWORD="$ADMIN_PW" "$PSQL" -X -q -At -v ON_ERROR_STOP=1 -h "$PG_HOST" -p "$PG_PORT" -U "$PG_SUPERUSER")
[ -n "$ADMIN_PW" ] || ADMIN=(env -u PGPASSWORD "$PSQL" -X -q -At -v ON_ERROR_STOP=1 -w -h "$PG_HOST" -p "$PG_PORT" -U "$PG_SUPERUSER")
# psql_admin DB [psql args...] ; SQL on stdin or via -c
psql_admin() { local db=$1; shift; "${ADMIN[@]}" -d "$db" "$@"; }

INFO_SQL="select current_setting('is_superuser'), current_setting('server_version_num'),
  split_part(current_setting('server_version'), ' ', 1), current_setting('data_directory'),
  coalesce((select default_version from pg_available_extensions where name = 'vector'), '')"
info=$(psql_admin postgres -F '|' -c "$INFO_SQL" 2>&1) || info="failed: $info"
su_check=${info%%|*}
if [ "$su_check" != on ]; then
  # Local Debian cluster: fall back to peer authentication as the postgres OS user.
  if is_local_host "$PG_HOST" && id postgres >/dev/null 2>&1 && [ "$(id -u)" -eq 0 ] && have runuser; then
    sockdir=/var/run/postgresql; case "$PG_HOST" in /*) sockdir=$PG_HOST;; esac
    ADMIN=(runuser -u postgres -- "$PSQL" -X -q -At -v ON_ERROR_STOP=1 -h "$sockdir" -p "$PG_PORT" -U postgres)
    info2=$(cd / && psql_admin postgres -F '|' -c "$INFO_SQL" 2>&1) || info2=failed
    if [ "${info2%%|*}" = on ]; then
      info=$info2
      log "connected as superuser via the local socket (peer auth as OS user postgres)"
      su_check=on
    fi
  fi
fi
[ "$su_check" = on ] || die "cannot connect to Postgres at $PG_HOST:$PG_PORT as a superuser ($PG_SUPERUSER): ${su_check#failed: }
[setup]   set SETUP_PG_SUPERUSER / SETUP_PG_SUPERUSER_PASSWORD (superuser is needed for CREATE EXTENSION vector)"
# runuser as postgres cannot read the repo dir; run admin psql from /
psql_admin() { local db=$1; shift; (cd / && "${ADMIN[@]}" -d "$db" "$@"); }

IFS='|' read -r _ SERVER_NUM SERVER_VER DATA_DIR AVAIL <<<"$info"
PG_MAJOR=$((SERVER_NUM / 10000))
log "server: PostgreSQL $SERVER_VER (major $PG_MAJOR), superuser connection OK"

# ---------------------------------------------------------------- 4. pgvector
step "pgvector"
avail_vector() { psql_admin postgres -c "select coalesce(default_version, '') from pg_available_extensions where name = 'vector'"; }

debian_mirror() {
  if [ -n "${SETUP_DEBIAN_MIRROR:-}" ]; then echo "$SETUP_DEBIAN_MIRROR"; return; fi
  local codename; codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
  [ -n "$codename" ] || return 1
  {
    # deb822 *.sources: stanzas with Types containing "deb" and a Suites entry == codename
    for f in /etc/apt/sources.list.d/*.sources; do
      [ -f "$f" ] || continue
      awk -v c="$codename" '
        function flush() { if (types ~ /(^|[ \t])deb([ \t]|$)/ && enabled != "no" && (" " suites " ") ~ (" " c " ")) { split(uris, a, /[ \t]+/); print a[1] } types=""; uris=""; suites=""; enabled="" }
        /^[ \t]*#/ { next }
        /^[ \t]*$/ { flush(); next }
        { k=tolower($1); sub(/:$/, "", k); v=$0; sub(/^[^:]*:[ \t]*/, "", v); gsub(/[ \t]+$/, "", v)
          if (k=="types") types=v; else if (k=="uris") uris=v; else if (k=="suites") suites=v; else if (k=="enabled") enabled=tolower(v) }
        END { flush() }' "$f"
    done
    # one-line format: deb [opts] URI SUITE COMPONENTS...
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
      [ -f "$f" ] || continue
      sed -E 's/\[[^]]*\]//' "$f" | awk -v c="$codename" '$1 == "deb" && $3 == c { print $2 }'
    done
  } | grep -E '^https?://' | grep -v -- '-security' | head -n1 | sed 's:/*$::'
}

build_pgvector_from_debian_source() {
  local pgconfig="/usr/lib/postgresql/$PG_MAJOR/bin/pg_config" mirror srcfile work dir t
  t=${EPOCHREALTIME/[.,]/}
  mirror=$(debian_mirror) || true
  [ -n "$mirror" ] || die "could not determine the Debian mirror from /etc/apt/sources.list{,.d}; set SETUP_DEBIAN_MIRROR=http://<mirror>/debian"
  srcfile=/etc/apt/sources.list.d/ingest-setup-trixie-src.sources
  if [ ! -f "$srcfile" ] || ! grep -qF "URIs: $mirror" "$srcfile"; then
    log "adding trixie deb-src (source packages ONLY, no binaries) for $mirror in $srcfile"
    as_root tee "$srcfile" >/dev/null <<EOF
# Added by ingest-service scripts/setup.sh to build pgvector from Debian's own source package.
# deb-src only: no trixie *binary* packages can be installed from this entry.
Types: deb-src
URIs: $mirror
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
  fi
  log "apt-get update (trixie deb-src index only)"
  run_logged "apt-get update of $srcfile" as_root apt-get -q -o DPkg::Lock::Timeout=300 \
    -o Dir::Etc::SourceList="$srcfile" -o Dir::Etc::SourceParts=- -o APT::Get::List-Cleanup=0 update
  local need=()
  for p in "postgresql-server-dev-$PG_MAJOR" build-essential dpkg-dev; do pkg_installed "$p" || need+=("$p"); done
  if [ "${#need[@]}" -gt 0 ]; then apt_install "${need[@]}"; else log "build dependencies already installed (postgresql-server-dev-$PG_MAJOR, build-essential, dpkg-dev)"; fi
  [ -x "$pgconfig" ] || die "$pgconfig not found after installing postgresql-server-dev-$PG_MAJOR"

  work=$(mktemp -d "${TMPDIR:-/tmp}/ingest-pgvector.XXXXXX")
  trap 'rm -rf "$work"' EXIT
  log "apt-get source pgvector/trixie into $work"
  (cd "$work" && run_logged "apt-get source pgvector" as_root apt-get -q -o APT::Sandbox::User=root source --only-source pgvector/trixie)
  dir=$(find "$work" -mindepth 1 -maxdepth 1 -type d -name 'pgvector-*' | head -n1)
  [ -n "$dir" ] || die "apt-get source did not unpack a pgvector-* directory in $work"
  log "building $(basename "$dir") against $pgconfig (make OPTFLAGS= -j$(nproc), portable build)"
  run_logged "make (pgvector)" make -C "$dir" PG_CONFIG="$pgconfig" OPTFLAGS="" -j"$(nproc)"
  log "make install (pgvector) -> $("$pgconfig" --pkglibdir), $("$pgconfig" --sharedir)/extension"
  run_logged "make install (pgvector)" as_root make -C "$dir" PG_CONFIG="$pgconfig" OPTFLAGS="" install
  rm -rf "$work"; trap - EXIT
  # The trixie entry must never provide binaries (ours is deb-src only; check nobody else's does).
  if apt-cache policy 2>/dev/null | grep -Eq ' trixie(-[a-z]+)?/[a-z-]+ [a-z0-9]+ Packages'; then
    warn "an apt source provides trixie BINARY packages on this $(. /etc/os-release && echo "$VERSION_CODENAME") system (not added by this script) - review /etc/apt/sources.list.d/"
  fi
  log "pgvector built and installed in $(( (${EPOCHREALTIME/[.,]/} - t) / 1000000 )) s"
}

if [ -n "$AVAIL" ] && version_ge "$AVAIL" "$PGVECTOR_MIN"; then
  log "pgvector $AVAIL is available (need >= $PGVECTOR_MIN)"
else
  if [ -n "$AVAIL" ]; then log "pgvector $AVAIL is installed but too old (need >= $PGVECTOR_MIN for iterative index scans)"
  else log "pgvector is not installed on this server (CREATE EXTENSION vector is not possible)"; fi
  if [ "$DOCKER_MODE" = 1 ]; then die "the docker postgres has no pgvector >= $PGVECTOR_MIN; use the pgvector/pgvector image (see docker-compose.yml)"; fi
  if ! is_local_host "$PG_HOST" || [ ! -x "/usr/lib/postgresql/$PG_MAJOR/bin/postgres" ] || ! as_root test -d "$DATA_DIR"; then
    die "the Postgres at $PG_HOST:$PG_PORT is not a local Debian PostgreSQL $PG_MAJOR installation, so pgvector cannot be installed from here; install pgvector >= $PGVECTOR_MIN on that server (or use the pgvector/pgvector docker image)"
  fi
  apt_update_once
  cand=$(apt-cache policy "postgresql-$PG_MAJOR-pgvector" 2>/dev/null | awk '/Candidate:/ { print $2 }')
  if [ -n "$cand" ] && [ "$cand" != "(none)" ] && version_ge "${cand%%-*}" "$PGVECTOR_MIN"; then
    log "installing distribution package postgresql-$PG_MAJOR-pgvector ($cand)"
    apt_install "postgresql-$PG_MAJOR-pgvector"
  else
    if [ -z "$cand" ] || [ "$cand" = "(none)" ]; then log "no distribution package postgresql-$PG_MAJOR-pgvector -> building Debian's pgvector source package from trixie"
    else log "distribution package postgresql-$PG_MAJOR-pgvector is $cand (< $PGVECTOR_MIN) -> building Debian's pgvector source package from trixie"; fi
    build_pgvector_from_debian_source
  fi
  AVAIL=$(avail_vector)
  [ -n "$AVAIL" ] || die "pgvector still not available to the server after installation"
  version_ge "$AVAIL" "$PGVECTOR_MIN" || die "installed pgvector is $AVAIL, need >= $PGVECTOR_MIN"
  log "pgvector $AVAIL is now available"
fi

# ---------------------------------------------------------------- 5. databases
step "databases"
if [ "$PG_USER" != "$PG_SUPERUSER" ]; then
  role_exists=$(psql_admin postgres -v u="$PG_USER" <<<"select count(*) from pg_roles where rolname = :'u'")
  if [ "$role_exists" = 0 ]; then
    log "creating login role '$PG_USER' (from DATABASE_URL/PGUSER)"
    if [ -n "$PG_PASSWORD" ]; then psql_admin postgres -v u="$PG_USER" -v p="$PG_PASSWORD" <<<"create role :\"u\" login password :'p'"
    else psql_admin postgres -v u="$PG_USER" <<<"create role :\"u\" login"; fi
  fi
fi
DBS=("$APP_DB"); [ "$TEST_DB" != "$APP_DB" ] && DBS+=("$TEST_DB")
existing=$(psql_admin postgres -v a="$APP_DB" -v t="$TEST_DB" <<<"select datname from pg_database where datname in (:'a', :'t')")
for db in "${DBS[@]}"; do
  if ! grep -qxF -- "$db" <<<"$existing"; then
    log "creating database '$db' (owner $PG_USER)"
    psql_admin postgres -v d="$db" -v o="$PG_USER" <<<"create database :\"d\" owner :\"o\""
  fi
  ext_sql="select coalesce((select extversion from pg_extension where extname = 'vector'), '')"
  ext=$(psql_admin "$db" -c "$ext_sql")
  if [ -z "$ext" ]; then
    log "CREATE EXTENSION vector in '$db'"
    ext=$(psql_admin "$db" -c "create extension if not exists vector" -c "$ext_sql")
  elif ! version_ge "$ext" "$AVAIL"; then
    log "ALTER EXTENSION vector UPDATE in '$db' ($ext -> $AVAIL)"
    ext=$(psql_admin "$db" -c "alter extension vector update" -c "$ext_sql")
  fi
  [ -n "$ext" ] && version_ge "$ext" "$PGVECTOR_MIN" || die "database '$db' has vector $ext, need >= $PGVECTOR_MIN"
  log "database '$db' ready (vector $ext)"
done

# ---------------------------------------------------------------- 6. Redis
step "redis"
# redis_cmd ARGS... : prints the reply (redis-cli if present, else a minimal RESP client on /dev/tcp)
redis_cmd() {
  if have redis-cli; then
    local tls=(); [ "$REDIS_TLS" = 1 ] && tls=(--tls)
    local auth=(env -u REDISCLI_AUTH); [ -n "$REDIS_PASSWORD" ] && auth=(env REDISCLI_AUTH="$REDIS_PASSWORD")
    "${auth[@]}" timeout 5 redis-cli "${tls[@]}" -h "$REDIS_HOST" -p "$REDIS_PORT" \
      ${REDIS_USER:+--user "$REDIS_USER"} --no-auth-warning --raw "$@" 2>&1
  else
    [ "$REDIS_TLS" = 1 ] && { echo "ERR rediss:// needs redis-cli"; return 1; }
    timeout 5 bash -c '
      exec 3<>"/dev/tcp/$1/$2" || exit 1; u=$3; p=$4; shift 4
      resp() { printf "*%d\r\n" $#; for a; do printf "\$%d\r\n%s\r\n" ${#a} "$a"; done; }
      if [ -n "$p" ]; then if [ -n "$u" ]; then resp AUTH "$u" "$p"; else resp AUTH "$p"; fi >&3; IFS= read -r l <&3; fi
      resp "$@" >&3
      IFS= read -r l <&3; l=${l%$'"'"'\r'"'"'}
      case $l in
        \**) n=${l#\*}; for ((i=0;i<n;i++)); do IFS= read -r h <&3; IFS= read -r v <&3; echo "${v%$'"'"'\r'"'"'}"; done;;
        \$*) IFS= read -r v <&3; echo "${v%$'"'"'\r'"'"'}";;
        *) echo "${l#?}";;
      esac' _ "$REDIS_HOST" "$REDIS_PORT" "$REDIS_USER" "$REDIS_PASSWORD" "$@"
  fi
}
redis_ok() { [ "$(redis_cmd PING 2>/dev/null)" = PONG ]; }

STARTED_REDIS=0
if redis_ok; then
  log "Redis is reachable at $REDIS_HOST:$REDIS_PORT"
else
  if [ "$DOCKER_MODE" = 0 ] && is_local_host "$REDIS_HOST" && ! tcp_open "$REDIS_HOST" "$REDIS_PORT"; then
    log "no Redis reachable at $REDIS_HOST:$REDIS_PORT"
    if ! have redis-server; then
      log "redis-server is not installed -> installing Debian's 'redis-server' package"
      apt_install redis-server
      redis_ok && log "the redis-server package started its service on port $REDIS_PORT"
    fi
    if ! redis_ok; then
      if [ "$(id -u)" -eq 0 ]; then rdir=/var/lib/redis; rlog=/var/log/redis/ci.log
      else rdir=${XDG_CACHE_HOME:-$HOME/.cache}/ingest-setup/redis; rlog=$rdir/redis.log; fi
      mkdir -p "$rdir" "$(dirname "$rlog")"
      rargs=(--daemonize yes --bind 127.0.0.1 -::1 --port "$REDIS_PORT" --save "" --appendonly no
             --dir "$rdir" --logfile "$rlog" --maxmemory-policy noeviction)
      [ -n "$REDIS_PASSWORD" ] && [ -z "$REDIS_USER" -o "$REDIS_USER" = default ] && rargs+=(--requirepass "$REDIS_PASSWORD")
      log "starting a development Redis: redis-server --daemonize yes --port $REDIS_PORT --save '' --appendonly no --maxmemory-policy noeviction (log: $rlog)"
      redis-server "${rargs[@]}" </dev/null || die "redis-server failed to start (see $rlog)"
      STARTED_REDIS=1
      for _ in $(seq 1 50); do redis_ok && break; sleep 0.1; done
    fi
    redis_ok || die "Redis at $REDIS_HOST:$REDIS_PORT did not come up (see ${rlog:-/var/log/redis/})"
    log "Redis is up at $REDIS_HOST:$REDIS_PORT"
  else
    reply=$(redis_cmd PING 2>&1) || true
    die "Redis at $REDIS_URL_EFF does not answer PING: ${reply%%$'\n'*}"
  fi
fi

policy=$(redis_cmd CONFIG GET maxmemory-policy 2>&1 | sed -n 2p) || true
if [ "$policy" = noeviction ]; then
  log "Redis maxmemory-policy is noeviction (as BullMQ requires)"
elif [ "$STARTED_REDIS" = 1 ] && [ -n "$policy" ]; then
  log "setting maxmemory-policy noeviction on the Redis this script started (was $policy)"
  redis_cmd CONFIG SET maxmemory-policy noeviction >/dev/null
else
  {
    echo "[setup] !!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
    if [ -z "$policy" ]; then echo "[setup] !! WARNING: could not read Redis maxmemory-policy (CONFIG disabled?)."
    else echo "[setup] !! WARNING: Redis maxmemory-policy is '$policy', NOT 'noeviction'."; fi
    echo "[setup] !! BullMQ requires noeviction: under memory pressure Redis may evict queue"
    echo "[setup] !! keys and jobs get lost or stuck. Fix: redis-cli CONFIG SET maxmemory-policy noeviction"
    echo "[setup] !! (and persist it in redis.conf). Not changed automatically: this script did not start that Redis."
    echo "[setup] !!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
  } >&2
fi

STEP="done"
log "ready in $(( (${EPOCHREALTIME/[.,]/} - T0) / 1000 )) ms: postgres $PG_HOST:$PG_PORT (PostgreSQL $SERVER_VER, pgvector $AVAIL, dbs: ${DBS[*]}), redis $REDIS_HOST:$REDIS_PORT"
