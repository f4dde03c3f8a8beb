"""SQLite databases (.sqlite3, .sqlite, .db, .db3: vtkMRMLTableSQLiteStorageNode writes a table node there, into a
database that may hold other tables), read with the standard library's sqlite3: every table's name, column names
and declared types (Slicer writes column names unquoted, so "Name of Smith" is the column "Name" of type "of Smith
TEXT") and text cells are values; every schema statement and the file's raw bytes (free pages keep deleted rows:
Slicer drops and recreates its table on every save) are searched too.

Written back: cells by rowid; a table whose name, column names or types changed is rebuilt under its new name with
quoted identifiers, the affinity of each type, its NOT NULL, DEFAULT and PRIMARY KEY columns and every row with its
rowid; then VACUUM, which rewrites every page so no freed page keeps an old value. A table with other constraints,
or an index, view or trigger holding a value, is a FormatError: it is not rebuilt by guesswork."""

import sqlite3

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
        self.nameIndex, self.columnIndexes, self.typeIndexes = None, [], []


class SqliteTables(ValueSurface):
    def __init__(self, data):
        super().__init__()
        if not data.startswith(MAGIC):
            raise FormatError("not an SQLite database")
        self.data, self.tables, self.cells, self.otherText = data, [], {}, [rawText(data)]
        try:
            self.connection = sqlite3.connect(":memory:")
            self.connection.deserialize(data)
            self._read()
        except sqlite3.Error:
            raise FormatError("an SQLite database cannot be read") from None

    def _read(self):
        schema = self.connection.execute("SELECT type, name, sql FROM sqlite_master").fetchall()
        for kind, name, sql in schema:
            self.otherText.append(f"{name} {sql or ''}")
            if kind != "table" or name.startswith("sqlite_"):
                continue
            columns = self.connection.execute(f"PRAGMA table_info({_quoted(name)})").fetchall()
            table = _Table(name, sql or "", columns)
            number = len(self.tables) + 1
            table.nameIndex = self.add(name, f"table {number} name")
            for column in columns:
                table.columnIndexes.append(self.add(column[1], f"table {number} column {column[0] + 1} name"))
                table.typeIndexes.append(self.add(column[2], f"table {number} column {column[0] + 1} type"))
            self.tables.append(table)
            for row in self.connection.execute(f"SELECT rowid, * FROM {_quoted(name)}"):
                for column, cell in zip(columns, row[1:]):
                    if isinstance(cell, str) and cell:
                        place = f"table {number} row {row[0]} column {column[0] + 1}"
                        self.cells[self.add(cell, place)] = (table, column[1], row[0])

    def searchedText(self):
        return "\n".join([*self.values, *self.otherText])

    def render(self):
        if not self.changed:
            return self.data
        try:
            for index, (table, column, rowid) in self.cells.items():
                if self.isChanged(index):
                    update = f"UPDATE {_quoted(table.name)} SET {_quoted(column)} = ? WHERE rowid = ?"
                    self.connection.execute(update, (self.value(index), rowid))
            for table in self.tables:
                indexes = [table.nameIndex, *table.columnIndexes, *table.typeIndexes]
                if any(self.isChanged(index) for index in indexes):
                    self._rebuild(table)
            self.connection.commit()
            self.connection.execute("VACUUM")
            return self.connection.serialize()
        except sqlite3.Error:
            raise FormatError("an SQLite database cannot be written back") from None

    def _rebuild(self, table):
        if any(word in table.sql.upper() for word in _CONSTRAINTS):
            raise FormatError("an SQLite table with constraints holds a value in its name or columns")
        others = self.connection.execute(
            "SELECT count(*) FROM sqlite_master WHERE tbl_name = ? AND type != 'table'", (table.name,)
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
            if column[4] is not None:
                definition += f" DEFAULT {column[4]}"
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
