"""SQLite databases (.sqlite3, .sqlite, .db, .db3: vtkMRMLTableSQLiteStorageNode writes a table node there, into a
database that may hold other tables), read with the standard library's sqlite3. Slicer writes column names
unquoted, so "Name of Smith" is the column "Name" of type "of Smith TEXT".

Values: table names, column names, declared types and defaults; text cells, BLOB cells that decode as text and
integers of four digits or more (an ID or a date stored as a number); view and trigger statements; and the text
runs of the file's raw bytes, freed pages included (Slicer drops and recreates its table on every save, so old
rows stay in freed pages). Index statements are searched only.

Written back: cells by rowid; views and triggers recreated from their cleaned statements; a table whose name,
column names, types or defaults changed is rebuilt under its new name with quoted identifiers, the affinity of
each type, its NOT NULL, DEFAULT and PRIMARY KEY columns and every row with its rowid; then always VACUUM, which
rewrites every page so no freed page keeps an old value. A table with other constraints, or with an index or
trigger, whose names hold a value is a FormatError: it is not rebuilt by guesswork."""

import sqlite3

from ..profile import keywordForLabel
from .rawBytes import rawText
from .surface import FormatError, ValueSurface

SUFFIXES = (".sqlite3", ".sqlite", ".db", ".db3")
MAGIC = b"SQLite format 3\x00"
_CONSTRAINTS = ("CHECK", "REFERENCES", "UNIQUE", "CONSTRAINT", "COLLATE", "GENERATED", "WITHOUT ROWID")


def _quoted(name):
    return '"' + name.replace('"', '""') + '"'


def _affinity(declared):
    """The column affinity SQLite gives a declared type (sqlite.org/datatype3.html, 3.1)."""
    upper = declared.upper()
    if "INT" in upper:
        return "INTEGER"
    if any(word in upper for word in ("CHAR", "CLOB", "TEXT")):
        return "TEXT"
    if "BLOB" in upper or not upper.strip():
        return "BLOB" if upper.strip() else ""
    if any(word in upper for word in ("REAL", "FLOA", "DOUB")):
        return "REAL"
    return "NUMERIC"


class _Table:
    def __init__(self, name, sql, columns):
        self.name, self.sql, self.columns = name, sql, columns  # columns: PRAGMA table_info rows
        self.nameIndex, self.columnIndexes, self.typeIndexes, self.defaultIndexes = None, [], [], {}


def _cellText(cell):
    """(text, kind) of a cell that may hold a value: text, a BLOB that decodes as text, an integer of at least
    four digits (an ID or a date stored as a number); None for the rest (small numbers, reals, NULL)."""
    if isinstance(cell, str):
        return (cell, "text") if cell else None
    if isinstance(cell, bytes):
        try:
            return cell.decode("utf-8"), "blob"
        except UnicodeDecodeError:
            return cell.decode("latin-1"), "blob"
    if isinstance(cell, int) and abs(cell) >= 1000:
        return str(cell), "integer"
    return None


class SqliteTables(ValueSurface):
    def __init__(self, data):
        super().__init__()
        if not data.startswith(MAGIC):
            raise FormatError("not an SQLite database")
        self.data, self.tables, self.cells, self.statements = data, [], {}, {}
        try:
            self.connection = sqlite3.connect(":memory:")
            self.connection.deserialize(data)
            self._read()
        except (sqlite3.Error, UnicodeDecodeError, ValueError):
            raise FormatError("an SQLite database cannot be read") from None
        # Every byte of the file, freed pages included: a change here is cleaned by the VACUUM that ends a write.
        self.rawIndex = self.add(rawText(data), "raw bytes (freed pages included)")

    def _read(self):
        schema = self.connection.execute("SELECT type, name, sql FROM sqlite_master").fetchall()
        for kind, name, sql in schema:
            if kind in ("view", "trigger") and sql:
                self.statements[self.add(sql, f"{kind} statement")] = (kind, name)
            elif kind == "index" and sql:
                self.otherText.append(sql)
            if kind != "table" or name.startswith("sqlite_"):
                continue
            columns = self.connection.execute(f"PRAGMA table_info({_quoted(name)})").fetchall()
            self._readTable(_Table(name, sql or "", columns))

    def _readTable(self, table):
        number = len(self.tables) + 1
        table.nameIndex = self.add(table.name, f"table {number} name")
        for column in table.columns:
            where = f"table {number} column {column[0] + 1}"
            table.columnIndexes.append(self.add(column[1], f"{where} name"))
            table.typeIndexes.append(self.add(column[2], f"{where} type"))
            if column[4] is not None:
                table.defaultIndexes[column[0]] = self.add(column[4], f"{where} default")
        self.tables.append(table)
        names = [column[1] for column in table.columns]
        for row in self.connection.execute(f"SELECT rowid, * FROM {_quoted(table.name)}"):
            for position, (column, cell) in enumerate(zip(names, row[1:])):
                text = _cellText(cell)
                if text is not None:
                    place = f"table {number} row {row[0]} column {position + 1}"
                    index = self.add(text[0], place)
                    self.cells[index] = (table, column, row[0], text[1])
                    if keyword := keywordForLabel(column):
                        self.labels[index] = keyword

    def render(self):
        if not self.changed:
            return self.data
        try:
            for index, (table, column, rowid, kind) in self.cells.items():
                if self.isChanged(index):
                    value = self.value(index).encode("utf-8") if kind == "blob" else self.value(index)
                    update = f"UPDATE {_quoted(table.name)} SET {_quoted(column)} = ? WHERE rowid = ?"
                    self.connection.execute(update, (value, rowid))
            for index, (kind, name) in self.statements.items():
                if self.isChanged(index):
                    self.connection.execute(f"DROP {kind.upper()} {_quoted(name)}")
                    self.connection.execute(self.value(index))
            for table in self.tables:
                indexes = [table.nameIndex, *table.columnIndexes, *table.typeIndexes, *table.defaultIndexes.values()]
                if any(self.isChanged(index) for index in indexes):
                    self._rebuild(table)
            self.connection.commit()
            self.connection.execute("VACUUM")  # every page rewritten: no freed page keeps an old value
            return self.connection.serialize()
        except sqlite3.Error:
            raise FormatError("an SQLite database cannot be written back") from None

    def _rebuild(self, table):
        if any(word in table.sql.upper() for word in _CONSTRAINTS):
            raise FormatError("an SQLite table with constraints holds a value in its name or columns")
        others = self.connection.execute(
            "SELECT count(*) FROM sqlite_master WHERE tbl_name = ? AND type != 'table' AND name NOT LIKE 'sqlite_%'",
            (table.name,),
        ).fetchone()[0]
        if others:
            raise FormatError("an SQLite table with indexes or triggers holds a value in its name or columns")
        keys = [column for column in table.columns if column[5]]
        definitions = []
        for column, nameIndex, typeIndex in zip(table.columns, table.columnIndexes, table.typeIndexes):
            declared = self.value(typeIndex) if not self.isChanged(typeIndex) else _affinity(column[2])
            definition = f"{_quoted(self.value(nameIndex) or '_')} {declared}".rstrip()
            if column[3]:
                definition += " NOT NULL"
            if column[0] in table.defaultIndexes:
                default = table.defaultIndexes[column[0]]
                written = self.value(default) if not self.isChanged(default) else _literal(self.value(default))
                definition += f" DEFAULT {written}"
            if len(keys) == 1 and column[5]:
                definition += " PRIMARY KEY"
            definitions.append(definition)
        if len(keys) > 1:
            ordered = sorted(keys, key=lambda column: column[5])
            keyNames = [self.value(table.columnIndexes[column[0]]) for column in ordered]
            definitions.append(f"PRIMARY KEY ({', '.join(_quoted(name) for name in keyNames)})")
        temporary = _quoted(f"anonymizeonsave_{table.name}")
        self.connection.execute(f"CREATE TABLE {temporary} ({', '.join(definitions)})")
        names = ", ".join(_quoted(self.value(index) or "_") for index in table.columnIndexes)
        self.connection.execute(f"INSERT INTO {temporary} (rowid, {names}) SELECT rowid, * FROM {_quoted(table.name)}")
        self.connection.execute(f"DROP TABLE {_quoted(table.name)}")
        self.connection.execute(f"ALTER TABLE {temporary} RENAME TO {_quoted(self.value(table.nameIndex) or '_')}")


def _literal(text):
    """A cleaned DEFAULT as an SQL string literal (its original form, a quoted string or an expression, may no
    longer parse once a value in it is replaced)."""
    return "'" + text.strip("'\"").replace("'", "''") + "'"
