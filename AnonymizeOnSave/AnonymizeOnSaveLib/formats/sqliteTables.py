"""SQLite databases (.sqlite3, .sqlite, .db: vtkMRMLTableSQLiteStorageNode writes a table node there, into a
database that may hold other tables): every table's name, column names and text cells are values, read with the
standard library's sqlite3; the schema and the file's raw bytes (free pages keep deleted rows: Slicer drops and
recreates its table on every save) are searched too. Written back by rowid, renaming tables and columns, then
VACUUM, which rewrites every page so no freed page keeps an old value."""

import sqlite3

from .rawBytes import rawText
from .surface import FormatError, ValueSurface

SUFFIXES = (".sqlite3", ".sqlite", ".db")
MAGIC = b"SQLite format 3\x00"


def _quoted(name):
    return '"' + name.replace('"', '""') + '"'


class SqliteTables(ValueSurface):
    def __init__(self, data):
        super().__init__()
        if not data.startswith(MAGIC):
            raise FormatError("not an SQLite database")
        self.data, self.targets, self.otherText = data, {}, []
        try:
            self.connection = sqlite3.connect(":memory:")
            self.connection.deserialize(data)
            self._read()
        except sqlite3.Error:
            raise FormatError("an SQLite database cannot be read") from None
        self.otherText.append(rawText(data))

    def _read(self):
        schema = self.connection.execute("SELECT rowid, type, name, sql FROM sqlite_master").fetchall()
        for rowid, kind, name, sql in schema:
            if name.startswith("sqlite_"):
                continue
            self.targets[self.add(name, f"{kind} {rowid} name")] = ("name", rowid, name)
            if sql:
                self.targets[self.add(sql, f"{kind} {rowid} schema")] = ("sql", rowid)
            if kind != "table":
                continue
            columns = [row[1] for row in self.connection.execute(f"PRAGMA table_info({_quoted(name)})")]
            for row in self.connection.execute(f"SELECT rowid, * FROM {_quoted(name)}"):
                for column, cell in zip(columns, row[1:]):
                    if isinstance(cell, str) and cell:
                        place = f"table {rowid} row {row[0]} column {columns.index(column) + 1}"
                        self.targets[self.add(cell, place)] = ("cell", name, column, row[0])

    def searchedText(self):
        return "\n".join([*self.values, *self.otherText])

    def render(self):
        """Cells by rowid, then the schema (names and statements, which hold the column names) rewritten, then a
        fresh copy read back whole and vacuumed."""
        if not self.changed:
            return self.data
        try:
            for index, target in self.targets.items():
                if target[0] == "cell" and self.isChanged(index):
                    _, table, column, rowid = target
                    update = f"UPDATE {_quoted(table)} SET {_quoted(column)} = ? WHERE rowid = ?"
                    self.connection.execute(update, (self.value(index), rowid))
            self.connection.commit()
            self._rewriteSchema()
            cleaned = sqlite3.connect(":memory:")
            cleaned.deserialize(self.connection.serialize())
            self._checkReadable(cleaned)
            cleaned.execute("VACUUM")
            return cleaned.serialize()
        except sqlite3.Error:
            raise FormatError("an SQLite database cannot be written back") from None

    def _rewriteSchema(self):
        renamed = {target[2]: self.value(i) for i, target in self.targets.items() if target[0] == "name"}
        rows = {}
        for index, target in self.targets.items():
            if target[0] in ("name", "sql") and self.isChanged(index):
                rows.setdefault(target[1], {})[target[0]] = self.value(index)
        if not rows:
            return
        version = self.connection.execute("PRAGMA schema_version").fetchone()[0]
        self.connection.execute("PRAGMA writable_schema = ON")
        for rowid, change in rows.items():
            name, table, sql = self.connection.execute(
                "SELECT name, tbl_name, sql FROM sqlite_master WHERE rowid = ?", (rowid,)
            ).fetchone()
            self.connection.execute(
                "UPDATE sqlite_master SET name = ?, tbl_name = ?, sql = ? WHERE rowid = ?",
                (change.get("name", name) or "_", renamed.get(table, table) or "_", change.get("sql", sql), rowid),
            )
        self.connection.execute(f"PRAGMA schema_version = {version + 1}")
        self.connection.execute("PRAGMA writable_schema = OFF")
        self.connection.commit()

    @staticmethod
    def _checkReadable(connection):
        """Every table of the rewritten database reads whole and the database is consistent."""
        if connection.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
            raise FormatError("an SQLite database would be damaged by cleaning")
        for (table,) in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall():
            connection.execute(f"SELECT * FROM {_quoted(table)}").fetchall()
