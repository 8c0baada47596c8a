# Shared by scripts/test and scripts/demo (sourced, not run).

# root_build VERSION [PG_CONFIG]: copies the tree into the root of
# PostgreSQL VERSION (scripts/pg-root), builds it there as postgres (after a
# clean: objects in the tree were built against another version) and
# installs it, with that version's pg_config or the one given (16 is built
# in 17's root: scripts/pg16).  Sets $work (the copy, seen from outside) and
# $inside (the same, seen from inside).
root_build()
{
	local v=$1 root pgc
	root=${PGOV_CACHE:-/var/cache/pool_governor}/root-$v
	pgc=${2:-/usr/lib/postgresql/$v/bin/pg_config}
	"$here/scripts/pg-root" "$v" true
	work=$(mktemp -d "$root/tmp/pool_governor-test.XXXXXX")
	tar -C "$here" --exclude=.git --exclude=dist -cf - . | tar -C "$work" -xf -
	chmod 755 "$work"
	inside=/tmp/$(basename "$work")
	"$here/scripts/pg-root" "$v" bash -c "
		set -e
		chown -R postgres: $inside
		runuser -u postgres -- make -s -C $inside clean PG_CONFIG=$pgc with_llvm=no
		runuser -u postgres -- make -s -C $inside PG_CONFIG=$pgc with_llvm=no
		make -s -C $inside install PG_CONFIG=$pgc with_llvm=no
	"
}
