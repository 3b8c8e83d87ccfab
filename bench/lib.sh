# bench/lib.sh: shell helpers the bench scripts share (sourced after scripts/lib.sh).

now() { date +%s.%N; }

# vecx_backend_cpu SQLFILE OUT: run SQLFILE in one psql session (PG* from the
# environment, user and database postgres), its output to OUT; print the
# backend's CPU seconds (user + system, from /proc), the psql client's, then
# wall seconds.  CPU time is what a query costs however busy the machine is.
# Needs $work (a scratch directory) and $bindir (the server's bin directory).
vecx_backend_cpu() {
	local sql=$1 res=$2 t0 tck
	tck=$(getconf CLK_TCK)
	t0=$(now)
	{
		echo 'SELECT pg_backend_pid() AS pid \gset'
		echo '\setenv PID :pid'
		echo "\\! awk '{print \$14+\$15}' /proc/\$PID/stat > $work/cpu0"
		cat "$sql"
		echo "\\! awk '{print \$14+\$15}' /proc/\$PID/stat > $work/cpu1"
	} >"$work/timed.sql"
	/usr/bin/time -f '%U %S' -o "$work/client" "$bindir/psql" -X -q -v ON_ERROR_STOP=1 \
		-U postgres -d postgres -tA -f "$work/timed.sql" >"$res"
	echo "$(echo "($(cat "$work/cpu1") - $(cat "$work/cpu0")) / $tck" | bc -l)" \
		"$(awk '{print $1 + $2}' "$work/client")" "$(echo "$(now) - $t0" | bc)"
}
