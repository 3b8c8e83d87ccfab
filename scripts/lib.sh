# lib.sh: shell functions shared by the vecx scripts (sourced, not run).
#
# Environment:
#   PG_CONFIG   pg_config of the server to build for (default: pg_config)
#   VECX_NO_APT set to 1 to never call apt-get

PG_CONFIG=${PG_CONFIG:-pg_config}
export PG_CONFIG

# Packages every build and test needs; scripts add their own.
VECX_BASE_PKGS="build-essential postgresql-15 postgresql-server-dev-15 libopenblas-dev libipc-run-perl dataset-fashion-mnist"

log() { printf '==> %s\n' "$*" >&2; }

# vecx_need_pkgs PKG...: install whichever of the Debian packages are missing.
vecx_need_pkgs() {
	local missing=()
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	if [ "${VECX_NO_APT:-0}" = 1 ]; then
		log "missing packages (VECX_NO_APT=1, not installing): ${missing[*]}"
		return 1
	fi
	local sudo=""
	[ "$(id -u)" -ne 0 ] && sudo=sudo
	log "installing: ${missing[*]}"
	$sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
	$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# vecx_build_install [MAKEFLAGS...]: build and install into $PG_CONFIG's server.
vecx_build_install() {
	local sudo=""
	if [ "$(id -u)" -ne 0 ] && [ ! -w "$("$PG_CONFIG" --pkglibdir)" ]; then
		sudo=sudo
	fi
	log "building vecx for $("$PG_CONFIG" --version)"
	make -s -j"$(nproc)" PG_CONFIG="$PG_CONFIG" "$@"
	$sudo make -s install PG_CONFIG="$PG_CONFIG" "$@" >/dev/null
}

# The account that runs clusters: initdb refuses root.
vecx_pg_user() {
	if [ "$(id -u)" -eq 0 ]; then echo postgres; else id -un; fi
}

# vecx_as_pg CMD...: run CMD as the cluster account (bash -c string).
vecx_as_pg() {
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u postgres -- env PATH="$PATH" PG_CONFIG="$PG_CONFIG" bash -c "$*"
	else
		bash -c "$*"
	fi
}

# vecx_start_cluster DIR [PORT]: initdb and start a throwaway cluster under
# DIR (owned by the cluster account), on PORT or a random one; exports
# PGHOST, PGPORT, PGDATA, PGUSER.
vecx_start_cluster() {
	local dir=$1 bindir port=${2:-}
	bindir=$("$PG_CONFIG" --bindir)
	mkdir -p "$dir"
	[ "$(id -u)" -eq 0 ] && chown "$(vecx_pg_user)" "$dir"
	[ -n "$port" ] || port=$((20000 + RANDOM % 20000))
	vecx_as_pg "'$bindir/initdb' -D '$dir/data' -U postgres -A trust --no-sync >'$dir/initdb.log' 2>&1"
	cat >>"$dir/data/postgresql.conf" <<CONF
listen_addresses = ''
port = $port
unix_socket_directories = '$dir'
shared_buffers = 1GB
maintenance_work_mem = 2GB
max_parallel_maintenance_workers = 2
fsync = off
CONF
	vecx_as_pg "'$bindir/pg_ctl' -D '$dir/data' -l '$dir/server.log' -w start >/dev/null"
	export PGHOST=$dir PGPORT=$port PGDATA=$dir/data PGUSER=postgres PGDATABASE=postgres
}

vecx_stop_cluster() {
	local dir=$1
	vecx_as_pg "'$("$PG_CONFIG" --bindir)/pg_ctl' -D '$dir/data' -m fast -w stop >/dev/null" || true
}
