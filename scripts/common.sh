# Shared by scripts/run, scripts/test and scripts/bench: idempotent set-up.
# Each step keeps a stamp (a hash of its inputs) under var/ and is skipped
# when its inputs have not changed, so a second run is fast.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ODOO_PATH=${ODOO_PATH:-/opt/odoo18}
VENV=$ROOT/.venv
VAR=$ROOT/var
PY=$VENV/bin/python
export PATH=$VENV/bin:$PATH
ADDON=insurance_notify
# The add-ons every database gets: the add-on and its Accounting bridge (which
# pulls in account). A broker without Accounting installs insurance_notify alone.
ADDONS=insurance_notify,insurance_notify_account
mkdir -p "$VAR/stamps"

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

have_odoo() { [ -f "$ODOO_PATH/odoo-bin" ] && [ -d "$ODOO_PATH/odoo/addons" ]; }

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

apt_install() {
    say "installing Debian packages: $*"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# stamp_changed NAME INPUT... : true when the hash of the inputs differs from the stamp
stamp_changed() {
    local name=$1; shift
    local hash
    hash=$(cat "$@" 2>/dev/null | sha256sum | cut -c1-16)
    [ "$(cat "$VAR/stamps/$name" 2>/dev/null)" != "$hash" ] && echo "$hash" >"$VAR/stamps/$name.new"
}
stamp_commit() { mv "$VAR/stamps/$1.new" "$VAR/stamps/$1"; }

addon_files() { find "$ROOT/$ADDON" "$ROOT/insurance_notify_account" -type f -not -path '*/__pycache__/*' | sort; }

setup_python() {
    if [ ! -x "$PY" ]; then
        say "creating the virtualenv .venv"
        python3 -m venv "$VENV"
    fi
    local inputs=("$ROOT/pyproject.toml" "$ROOT/scripts/odoo_requirements.py")
    have_odoo && inputs+=("$ODOO_PATH/requirements.txt")
    if stamp_changed python "${inputs[@]}"; then
        say "installing Python dependencies"
        "$PY" -m pip install -q --disable-pip-version-check packaging
        local requirements=$VAR/odoo-requirements.txt
        : >"$requirements"
        if have_odoo; then
            "$PY" "$ROOT/scripts/odoo_requirements.py" "$ODOO_PATH/requirements.txt" >"$requirements"
        fi
        "$PY" -m pip install -q --disable-pip-version-check -e "$ROOT[dev]" -r "$requirements"
        # Before 18.0.1.2.0 the core was a distribution of its own: a venv that
        # still has it would hide an import the add-on cannot resolve alone.
        "$PY" -m pip uninstall -q -y notify-engine 2>/dev/null || true
        stamp_commit python
    fi
    # Odoo is not on any registry: make its tree importable in the venv.
    local site
    site=$("$PY" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
    if have_odoo; then
        echo "$ODOO_PATH" >"$site/odoo-tree.pth"
    else
        rm -f "$site/odoo-tree.pth"
    fi
}

setup_postgres() {
    if ! command -v pg_lsclusters >/dev/null; then
        apt_install postgresql
    fi
    local version cluster status
    read -r version cluster _ status _ < <(pg_lsclusters --no-header | head -n1)
    if [ -z "${version:-}" ]; then
        as_root pg_createcluster --start 15 main >/dev/null
        read -r version cluster _ status _ < <(pg_lsclusters --no-header | head -n1)
    fi
    if [ "$status" != online ]; then
        say "starting PostgreSQL $version/$cluster"
        as_root pg_ctlcluster "$version" "$cluster" start
    fi
    # Odoo refuses the postgres role: give the user who runs it a role of its own.
    if ! psql -d postgres -Atqc 'select 1' >/dev/null 2>&1; then
        say "creating the PostgreSQL role $(id -un)"
        as_root runuser -u postgres -- psql -qc "CREATE ROLE \"$(id -un)\" LOGIN SUPERUSER"
    fi
}

setup_chromium() {
    command -v chromium >/dev/null || apt_install chromium
}

# The add-ons as an integrator deploys them: the two folders copied alone into
# an addons path of their own (var/addons), nothing of the repository beside
# them. Every database, test and tour runs from this copy, so an add-on that
# needs a file outside its folder fails here first.
ADDONS_COPY=$VAR/addons
copy_addons() {
    mkdir -p "$ADDONS_COPY"
    local addon
    for addon in ${ADDONS//,/ }; do
        rm -rf "${ADDONS_COPY:?}/$addon"
        cp -r "$ROOT/$addon" "$ADDONS_COPY/$addon"
        find "$ADDONS_COPY/$addon" -name __pycache__ -prune -exec rm -rf {} +
    done
}

write_odoo_config() {
    copy_addons
    mkdir -p "$VAR/data"
    cat >"$VAR/odoo.conf" <<CONF
[options]
addons_path = $ODOO_PATH/addons,$ODOO_PATH/odoo/addons,$ADDONS_COPY
data_dir = $VAR/data
http_port = ${ODOO_PORT:-8069}
admin_passwd = admin
max_cron_threads = 1
CONF
}

odoo() { "$PY" "$ODOO_PATH/odoo-bin" -c "$VAR/odoo.conf" "$@"; }

module_installed() {
    psql -d "$1" -Atqc "select 1 from ir_module_module where name = '$2' and state = 'installed'" | grep -q 1
}

db_exists() { psql -d postgres -Atqc "select 1 from pg_database where datname = '$1'" | grep -q 1; }

# build_database NAME: a database with the add-ons and their demo data, upgraded
# only when the add-on's files changed since the last build. The build fails on
# any ERROR or WARNING the add-on (or module loading) logs.
build_database() {
    local db=$1 log=$VAR/$1-build.log action fresh=
    if ! db_exists "$db"; then
        # The add-on and its demo agencies first, then the bridge (and so
        # Accounting): Odoo forbids changing a company's currency once
        # Accounting's demo has booked entries in it.
        action=(-i "$ADDON")
        fresh=1
        rm -f "$VAR/stamps/db-$db"
    elif stamp_changed "db-$db" $(addon_files); then
        action=(-u "$ADDONS")
        # A database built before the bridge existed gets it too (-i only then:
        # on an installed module it would load its noupdate data again).
        if ! module_installed "$db" insurance_notify_account; then
            action=(-i insurance_notify_account "${action[@]}")
        fi
    else
        return 0
    fi
    stamp_changed "db-$db" $(addon_files) || true
    say "building database $db: ${action[*]} with demo data (log: $log)"
    if ! odoo -d "$db" "${action[@]}" --stop-after-init --log-level=warn >"$log" 2>&1 \
        || { [ -n "$fresh" ] && ! odoo -d "$db" -i insurance_notify_account --stop-after-init --log-level=warn \
            >>"$log" 2>&1; }; then
        tail -n 40 "$log"
        [ -n "$fresh" ] && dropdb --if-exists "$db"
        return 1
    fi
    if grep -E " (ERROR|WARNING) .*($ADDON|odoo\.modules)" "$log"; then
        say "building $db logged the errors or warnings above"
        return 1
    fi
    pregenerate_assets "$db"
    stamp_commit "db-$db"
}

# pregenerate_assets DB: the web client's bundles, built now as Odoo does
# before its own browser tests; otherwise the first page (the first login after
# `make run`, the first tour of a suite) builds them, 14 s here and past a
# tour's 20 s navigation limit on a loaded machine. Bundles already built are
# found by their hash and cost nothing.
pregenerate_assets() {
    say "building the web client's assets of $1"
    "$PY" "$ODOO_PATH/odoo-bin" shell -c "$VAR/odoo.conf" -d "$1" --no-http --log-level=warn \
        >/dev/null <<'PY'
env["ir.qweb"]._pregenerate_assets_bundles()
env.cr.commit()
PY
}
