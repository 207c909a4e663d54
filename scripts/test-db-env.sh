# Sourced by scripts/test.sh and scripts/bench.sh: `use_test_db` exports DATABASE_URL from
# scripts/test-db.sh and stops a throwaway server it started when the calling script exits.
use_test_db() {
  _test_db_dir_file=$(mktemp)
  # Only test-db.sh reads it (not exported: Berth warns about BERTH_* names it does not know).
  DATABASE_URL=$(BERTH_TEST_DB_DIR_FILE=$_test_db_dir_file scripts/test-db.sh)
  export DATABASE_URL
  trap _stop_test_db EXIT
}

_stop_test_db() {
  local dir
  dir=$(cat "$_test_db_dir_file" 2>/dev/null || true)
  [ -n "$dir" ] && scripts/test-db.sh stop "$dir"
  rm -f "$_test_db_dir_file"
}
