"""Every SQL statement the gateway issues, built for one connection's dialect.

Identifiers are validated, then quoted with the connection's own `ops.quote_name` ([x] on SQL Server,
"x" on PostgreSQL and SQLite); values are always `%s` parameters. The test suite renders each statement
for SQL Server and parses it as T-SQL, since no SQL Server runs where the tests do.
"""

from .errors import ImisRefused
from .identifiers import checked, is_valid_identifier

# The fixed iMIS tables and columns we use (docs/imis-schema.sql).
NAME_COLUMNS = (
    "ID",
    "EMAIL",
    "FIRST_NAME",
    "LAST_NAME",
    "FULL_NAME",
    "STATUS",
    "COMPANY_RECORD",
    "EXCLUDE_MAIL",
)
ACTIVITY_COLUMNS = (
    "SEQN",
    "ID",
    "ACTIVITY_TYPE",
    "TRANSACTION_DATE",
    "EFFECTIVE_DATE",
    "PRODUCT_CODE",
    "DESCRIPTION",
    "SOURCE_SYSTEM",
    "SOURCE_CODE",
)
NAME_LOG_COLUMNS = ("DATE_TIME", "LOG_TYPE", "SUB_TYPE", "USER_ID", "ID", "LOG_TEXT")
REQUIRED_TABLES = ("Name", "UD_Table", "UD_Field", "Activity", "Counter")


class Statements:
    def __init__(self, connection):
        self.vendor = connection.vendor
        self._quote = connection.ops.quote_name

    def q(self, name):
        return self._quote(checked(name))

    def cols(self, names):
        return ", ".join(self.q(n) for n in names)

    @staticmethod
    def placeholders(n):
        return ", ".join(["%s"] * n)

    def first_rows(self, columns, table, where, order_by, limit):
        """SELECT the first `limit` rows in `order_by` order, in the dialect's own spelling."""
        limit = int(limit)
        if self.vendor == "microsoft":
            return f"SELECT TOP ({limit}) {columns} FROM {self.q(table)} WHERE {where} ORDER BY {self.q(order_by)}"
        return f"SELECT {columns} FROM {self.q(table)} WHERE {where} ORDER BY {self.q(order_by)} LIMIT {limit}"

    # --- metadata -----------------------------------------------------------------------------------
    def ud_tables(self):
        return f"SELECT {self.cols(['TABLE_NAME', 'ALLOW_MULTIPLE_INSTANCES'])} FROM {self.q('UD_Table')}"

    def ud_fields(self):
        columns = self.cols(["TABLE_NAME", "FIELD_NAME", "FIELD_TYPE", "PROMPT", "MICRO_HELP", "SEQ"])
        return f"SELECT {columns} FROM {self.q('UD_Field')}"

    # --- reading members and values ------------------------------------------------------------------
    def roster_chunk(self, limit, language_field=None):
        """The next `limit` Name rows after an ID; with `language_field` ("Name.COLUMN", or "TABLE.COLUMN" of a
        table keyed by ID such as a UD table), the member's language as a last column."""
        columns = self.cols(NAME_COLUMNS)
        if language_field:
            table, dot, column = language_field.partition(".")
            if not (dot and is_valid_identifier(table) and is_valid_identifier(column)):
                raise ImisRefused(
                    f"IMIS_LANGUAGE_FIELD is {language_field!r}: expected TABLE.COLUMN, e.g. Name.PREFERRED_LANGUAGE "
                    "or ud_Demographics.LANGUAGE (letters, digits and _)"
                )
            if table.lower() == "name":
                columns += f", {self.q(column)}"
            else:  # MAX: one value even from a table that allows several rows per member
                columns += (
                    f", (SELECT MAX({self.q(column)}) FROM {self.q(table)} "
                    f"WHERE {self.q(table)}.{self.q('ID')} = {self.q('Name')}.{self.q('ID')})"
                )
        return self.first_rows(columns, "Name", f"{self.q('ID')} > %s", "ID", limit)

    def ud_values_chunk(self, table, fields, limit):
        return self.first_rows(self.cols(["ID", *fields]), table, f"{self.q('ID')} > %s", "ID", limit)

    def ud_values_for(self, table, fields, n_ids):
        return (
            f"SELECT {self.cols(['ID', *fields])} FROM {self.q(table)} "
            f"WHERE {self.q('ID')} IN ({self.placeholders(n_ids)})"
        )

    # --- writing ------------------------------------------------------------------------------------
    def activities_for(self, n_ids, n_codes):
        return (
            f"SELECT {self.cols(['ID', 'SOURCE_CODE', 'SEQN'])} FROM {self.q('Activity')} "
            f"WHERE {self.q('ID')} IN ({self.placeholders(n_ids)}) "
            f"AND {self.q('SOURCE_CODE')} IN ({self.placeholders(n_codes)})"
        )

    def ud_update(self, table, field, n_ids):
        return f"UPDATE {self.q(table)} SET {self.q(field)} = %s WHERE {self.q('ID')} IN ({self.placeholders(n_ids)})"

    def ud_insert(self, table, field):
        return f"INSERT INTO {self.q(table)} ({self.cols(['ID', field])}) VALUES (%s, %s)"

    def counter_bump(self):
        return (
            f"UPDATE {self.q('Counter')} SET {self.q('LAST_VALUE')} = {self.q('LAST_VALUE')} + %s, "
            f"{self.q('LAST_UPDATED')} = %s, {self.q('UPDATED_BY')} = %s "
            f"WHERE {self.q('COUNTER_NAME')} = %s"
        )

    def counter_read(self):
        return f"SELECT {self.q('LAST_VALUE')} FROM {self.q('Counter')} WHERE {self.q('COUNTER_NAME')} = %s"

    def activity_insert(self):
        return (
            f"INSERT INTO {self.q('Activity')} ({self.cols(ACTIVITY_COLUMNS)}) "
            f"VALUES ({self.placeholders(len(ACTIVITY_COLUMNS))})"
        )

    def name_log_insert(self):
        return (
            f"INSERT INTO {self.q('Name_Log')} ({self.cols(NAME_LOG_COLUMNS)}) "
            f"VALUES ({self.placeholders(len(NAME_LOG_COLUMNS))})"
        )

    # --- health ---------------------------------------------------------------------------------------
    def permission_check(self):
        """One row per (table, privilege) the login lacks; None where the dialect has no grants."""
        if self.vendor == "microsoft":
            return "SELECT CASE WHEN HAS_PERMS_BY_NAME(%s, 'OBJECT', %s) = 1 THEN 1 ELSE 0 END"
        if self.vendor == "postgresql":
            return "SELECT CASE WHEN has_table_privilege(%s, %s) THEN 1 ELSE 0 END"
        return None


def all_statements(stmts, table="ud_EmailPrefs", fields=("NEWSLETTER", "EVENTS")):
    """Every statement, rendered with example names: what the T-SQL check walks through."""
    return {
        "ud_tables": stmts.ud_tables(),
        "ud_fields": stmts.ud_fields(),
        "roster_chunk": stmts.roster_chunk(1000),
        "roster_chunk with the language of a UD table": stmts.roster_chunk(1000, "ud_Demographics.LANGUAGE"),
        "roster_chunk with the language of Name": stmts.roster_chunk(1000, "Name.PREFERRED_LANGUAGE"),
        "ud_values_chunk": stmts.ud_values_chunk(table, list(fields), 1000),
        "ud_values_for": stmts.ud_values_for(table, list(fields), 3),
        "activities_for": stmts.activities_for(3, 3),
        "ud_update": stmts.ud_update(table, fields[0], 3),
        "ud_insert": stmts.ud_insert(table, fields[0]),
        "counter_bump": stmts.counter_bump(),
        "counter_read": stmts.counter_read(),
        "activity_insert": stmts.activity_insert(),
        "name_log_insert": stmts.name_log_insert(),
        "permission_check": stmts.permission_check(),
    }
