"""A deflate stream with its first bytes replaced and every compressed byte after them kept (RFC 1951).

A zip entry's deflate stream is a chain of blocks that start at any bit. To give a data file a new header without
recompressing its body, the blocks are read from the start (a small Huffman decoder: only their lengths matter) up
to a block boundary at least one window (32 KiB) past the old header, so no later block refers back into it. The
new header and the bytes up to that boundary are compressed again and made to end on the same bit as the original
part did, with empty fixed-Huffman blocks (10 bits each) and, when needed, the last byte as a fixed-Huffman literal
(18 or 19 bits); the original stream goes on from there unchanged.
"""

import zlib

WINDOW = 32768
_LENGTH_BASE = (3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163)
_LENGTH_BASE += (195, 227, 258)
_LENGTH_EXTRA = (0,) * 8 + (1,) * 4 + (2,) * 4 + (3,) * 4 + (4,) * 4 + (5,) * 4 + (0,)
_DISTANCE_EXTRA = (0, 0, 0, 0, *(n // 2 for n in range(2, 28)))
_CODE_LENGTH_ORDER = (16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15)


class DeflateError(ValueError):
    """Not a deflate stream this reader can follow."""


class _Bits:
    def __init__(self, data):
        self.data, self.position = data, 0

    def read(self, count):
        if self.position + count > len(self.data) * 8:
            raise DeflateError("the stream ends inside a block")
        value = self.peek(count)
        self.position += count
        return value

    def symbol(self, table):
        lookup, width = table
        entry = lookup[self.peek(width)]
        if entry is None:
            raise DeflateError("an invalid Huffman code")
        self.position += entry[1]
        return entry[0]

    def peek(self, count):
        index = self.position >> 3
        return (int.from_bytes(self.data[index : index + 4], "little") >> (self.position & 7)) & ((1 << count) - 1)


def _table(lengths):
    """A lookup of the next `width` bits (least significant first) -> (symbol, code length)."""
    width = max(lengths, default=0) or 1
    lookup = [None] * (1 << width)
    code = 0
    for length in range(1, width + 1):
        for symbol, symbolLength in enumerate(lengths):
            if symbolLength == length:
                reversed_ = int(f"{code:0{length}b}"[::-1], 2)
                for index in range(reversed_, 1 << width, 1 << length):
                    lookup[index] = (symbol, length)
                code += 1
        code <<= 1
    return lookup, width


_FIXED = (_table([8] * 144 + [9] * 112 + [7] * 24 + [8] * 8), _table([5] * 30))


def _dynamicTables(bits):
    literals, distances, codeLengths = bits.read(5) + 257, bits.read(5) + 1, bits.read(4) + 4
    order = [0] * 19
    for position in range(codeLengths):
        order[_CODE_LENGTH_ORDER[position]] = bits.read(3)
    table, lengths = _table(order), []
    while len(lengths) < literals + distances:
        symbol = bits.symbol(table)
        if symbol < 16:
            lengths.append(symbol)
        elif symbol == 16:
            if not lengths:
                raise DeflateError("a repeat without a previous length")
            lengths += [lengths[-1]] * (3 + bits.read(2))
        else:
            lengths += [0] * ((3 + bits.read(3)) if symbol == 17 else (11 + bits.read(7)))
    return _table(lengths[:literals]), _table(lengths[literals : literals + distances])


def boundaries(data):
    """(bit position, uncompressed offset) after each block but the last, for the blocks wholly inside data."""
    bits, offset = _Bits(data), 0
    while True:
        final, kind = bits.read(1), bits.read(2)
        if kind == 0:
            bits.position = (bits.position + 7) & ~7
            length = bits.read(16)
            if bits.read(16) != length ^ 0xFFFF:
                raise DeflateError("a stored block's length check fails")
            bits.position += 8 * length
            offset += length
        elif kind in (1, 2):
            literals, distances = _FIXED if kind == 1 else _dynamicTables(bits)
            while True:
                symbol = bits.symbol(literals)
                if symbol < 256:
                    offset += 1
                elif symbol == 256:
                    break
                else:
                    index = symbol - 257
                    offset += _LENGTH_BASE[index] + bits.read(_LENGTH_EXTRA[index])
                    bits.read(_DISTANCE_EXTRA[bits.symbol(distances)])
        else:
            raise DeflateError("a block of an unknown type")
        if bits.position > len(data) * 8:
            return
        if final:
            return
        yield bits.position, offset


class _Writer:
    """Bits, least significant first; Huffman codes are written from their most significant bit."""

    def __init__(self):
        self.value, self.count = 0, 0

    def write(self, value, count):
        self.value |= value << self.count
        self.count += count

    def code(self, code, length):
        self.write(int(f"{code:0{length}b}"[::-1], 2), length)

    def emptyFixedBlock(self):
        self.write(0b010, 3)  # not final, fixed Huffman
        self.code(0, 7)  # end of block (256)

    def literalBlock(self, byte):
        self.write(0b010, 3)
        self.code(0x30 + byte, 8) if byte < 144 else self.code(0x190 + byte - 144, 9)
        self.code(0, 7)


def _junction(bitPosition, lastByte):
    """(the bits that end the new part on the bit the original part ended, whether they carry the last byte)."""
    remainder = bitPosition & 7
    writer = _Writer()
    usesLastByte = remainder & 1 == 1
    if usesLastByte:
        if lastByte < 144:
            return None
        writer.literalBlock(lastByte)  # 19 bits
    while writer.count & 7 != remainder:
        writer.emptyFixedBlock()  # 10 bits
    return writer, usesLastByte


def splice(raw, oldLength, newStart):
    """A plan to replace the first oldLength uncompressed bytes of the deflate stream starting with raw (its first
    bytes) by newStart: (new compressed bytes, raw offset from which the original goes on, uncompressed offset of
    that point, original uncompressed bytes before it), or None when raw holds no usable boundary."""
    try:
        whole = zlib.decompressobj(-15).decompress(raw)
    except zlib.error:
        return None
    for bitPosition, offset in boundaries(raw):
        if offset < oldLength + WINDOW:
            continue
        original = whole[:offset]
        planned = _junction(bitPosition, original[-1])
        if planned is None:
            continue
        writer, usesLastByte = planned
        compressor = zlib.compressobj(6, zlib.DEFLATED, -15)
        content = newStart + original[oldLength : offset - 1 if usesLastByte else offset]
        head = compressor.compress(content) + compressor.flush(zlib.Z_SYNC_FLUSH)
        index, remainder = bitPosition >> 3, bitPosition & 7
        if remainder:
            tail = writer.value | ((raw[index] >> remainder) << writer.count)
            head += tail.to_bytes((writer.count + 8 - remainder) // 8, "little")
            index += 1
        if _joinsUp(head + raw[index:], newStart + whole[oldLength:]):
            return head, index, offset, original
    return None


def _joinsUp(spliced, expected):
    """Whether the new head followed by the original stream (the rest of raw) inflates to the new start followed
    by what the original stream gives after the old one."""
    try:
        return zlib.decompressobj(-15).decompress(spliced) == expected
    except zlib.error:
        return False
