#!/usr/bin/env bash
# pg-sandbox.sh DIR: make a private, relocated copy of the PostgreSQL 15
# server installation under DIR and print its pg_config path.
#
# PostgreSQL finds its share and lib directories relative to its binaries,
# so a copy works as an independent installation.  Developers working in
# several trees at once use one sandbox each (make install
# PG_CONFIG=DIR/usr/lib/postgresql/15/bin/pg_config) so their installs of
# vecx do not overwrite each other's.
set -euo pipefail
dir=${1:?usage: pg-sandbox.sh DIR}
src_lib=$(dirname "$(pg_config --bindir)")	# /usr/lib/postgresql/15
ver=$(basename "$src_lib")
if [ ! -x "$dir/usr/lib/postgresql/$ver/bin/postgres" ]; then
	mkdir -p "$dir/usr/lib/postgresql" "$dir/usr/share/postgresql" "$dir/usr/include"
	cp -a "$src_lib" "$dir/usr/lib/postgresql/"
	cp -a "/usr/share/postgresql/$ver" "$dir/usr/share/postgresql/"
	ln -sfn /usr/include/postgresql "$dir/usr/include/postgresql"
	chmod -R a+rX "$dir"
fi
echo "$dir/usr/lib/postgresql/$ver/bin/pg_config"
