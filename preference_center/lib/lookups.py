"""`field__any=[...]`: `field__in`, with the list sent to PostgreSQL as ONE array parameter.

Django's `__in` writes a placeholder per value. For the thousands of IDs of a roster pull's chunk, PostgreSQL
then parses and plans a statement of thousands of parameters on every execution, several times what the
query itself costs (docs/benchmarks.md). Elsewhere (SQLite, the embedded default) it is `__in`."""

import re

from django.db.models import Field, ForeignObject
from django.db.models.lookups import In

_MODIFIER = re.compile(r"\(.*\)")


class AnyOf(In):
    lookup_name = "any"

    def as_postgresql(self, compiler, connection):
        if not self.rhs_is_direct_value():  # a subquery: as __in
            return super().as_sql(compiler, connection)
        lhs, lhs_params = self.process_lhs(compiler, connection)
        values = [v for v in self.rhs if v is not None]
        if values:
            _placeholders, values = self.batch_process_rhs(compiler, connection, values)
        # Without a length: an explicit cast to varchar(10) would cut a longer value, and match another row.
        array_type = _MODIFIER.sub("", self.lhs.output_field.db_type(connection)) + "[]"
        return f"{lhs} = ANY(%s::{array_type})", (*lhs_params, list(values))


Field.register_lookup(AnyOf)
ForeignObject.register_lookup(AnyOf)  # related fields look up their own registry only
