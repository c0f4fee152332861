"""The settings' database configurations: our data on PostgreSQL or SQLite, and the `imis` alias. Read from
the environment when called (the settings have loaded `.env` into it by then)."""

import environ

env = environ.Env()


def postgres_for_our_data(config):
    """PostgreSQL for our data: parameters bound by the server, not quoted into the SQL text by psycopg in
    Python, and the statements a connection repeats prepared once, after 5 runs (parsing and planning the
    member's save cost PostgreSQL more than running it). A pooler in transaction mode that cannot keep
    prepared statements (PgBouncer before 1.21) needs DATABASE_PREPARED_STATEMENTS=false."""
    if config["ENGINE"] == "django.db.backends.postgresql":
        config["ENGINE"] = "preference_center.lib.postgresql"  # health checks without a round trip
        options = config.setdefault("OPTIONS", {})
        options.setdefault("server_side_binding", True)
        options.setdefault("prepare_threshold", 5 if env.bool("DATABASE_PREPARED_STATEMENTS", default=True) else None)
    return config


def sqlite_for_several_processes(config):
    """SQLite shared by gunicorn's workers (the embedded default): transactions take the write lock when
    they begin, so that a read-then-write transaction (a save, a claim) waits for another writer instead of
    failing with "database is locked" when it upgrades; WAL lets readers go on meanwhile."""
    if config["ENGINE"] == "django.db.backends.sqlite3":
        config.setdefault("OPTIONS", {}).update(
            {"transaction_mode": "IMMEDIATE", "timeout": 20, "init_command": "PRAGMA journal_mode=WAL;"}
        )
    return config


def imis_database_settings(var_dir):
    """The `imis` alias: IMIS_DATABASE_URL, or IMIS_HOST/IMIS_NAME/... parts for SQL Server, or the
    SQLite sandbox file in `var_dir` by default."""
    url = env.str("IMIS_DATABASE_URL", default="")
    if not url and env.str("IMIS_HOST", default=""):
        url = "mssql://{user}:{password}@{host}:{port}/{name}".format(
            user=env.str("IMIS_USER", default=""),
            password=env.str("IMIS_PASSWORD", default=""),
            host=env.str("IMIS_HOST"),
            port=env.int("IMIS_PORT", default=1433),
            name=env.str("IMIS_NAME", default="imis"),
        )
    if not url:
        url = f"sqlite:///{var_dir / 'imis_sandbox.sqlite3'}"
    config = env.db_url_config(url)
    if config["ENGINE"] == "mssql":
        encrypt = env.bool("IMIS_ENCRYPT", default=True)
        trust = env.bool("IMIS_TRUST_SERVER_CERTIFICATE", default=False)
        config["OPTIONS"] = {
            "python_driver": "mssql_python",
            "extra_params": "Encrypt={};TrustServerCertificate={}".format(
                "yes" if encrypt else "no", "yes" if trust else "no"
            ),
            "connection_timeout": env.int("IMIS_CONNECT_TIMEOUT", default=15),
            "connection_retries": 1,
            "query_timeout": env.int("IMIS_QUERY_TIMEOUT", default=60),
        }
    elif config["ENGINE"] == "django.db.backends.postgresql":
        config.setdefault("OPTIONS", {})["connect_timeout"] = env.int("IMIS_CONNECT_TIMEOUT", default=15)
    return sqlite_for_several_processes(config)
