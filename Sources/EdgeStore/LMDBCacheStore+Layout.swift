internal import CZlib
import Foundation

extension LMDBCacheStore {
    /// How values are laid out in LMDB pages, and what each costs against `maxBytes`.
    ///
    /// LMDB puts a value too large for a leaf page on its own run of contiguous "overflow" pages. With values of
    /// varied sizes evicted out of order, the free pages end up in runs too short for the next large value, so
    /// LMDB extends the file instead: with whole values (2 KB–1 MB) evicted in random order, a 256 MiB cache's
    /// file grew 30 % over ten turnovers and was still growing, and capping the map instead left the cache 60–75 %
    /// full (measured on LMDB 0.9.24). So no value here takes more than one page: a value that fits in one page
    /// (with its 24-byte header) is stored in its `entries` record, inline in the leaf when small; a larger one
    /// is cut into equal pieces of at most one page's payload, each its own single-page record in `chunks`. Any
    /// free page then fits any allocation, and the file stays at the pages in use plus what the last few
    /// transactions freed. Equal pieces of a value over one page are each over half a page, so LMDB never
    /// stores one inline in a leaf: every piece costs exactly one page.
    struct Layout: Sendable {
        /// LMDB's page size (the OS page size when the file was made).
        let pageSize: Int
        /// Bytes of a value piece that fill exactly one overflow page (the page header is 16 bytes).
        let piecePayload: Int
        /// Largest value kept inline in its leaf node (LMDB moves a node over `nodeMax` to overflow pages).
        let inlineMax: Int
        /// Largest value kept in its `entries` record (inline, or on one overflow page).
        let recordMax: Int

        /// Bytes in front of a value in its `entries` record: sequence, length, CRC-32, piece count.
        static let headerSize = 24
        static let keySize = 32
        /// Big-endian sequence then big-endian piece index.
        static let pieceKeySize = 12
        /// `order` maps the sequence to the key and the value's length.
        static let orderKeySize = 8
        static let orderValueSize = 40
        /// LMDB's page header and node header, and the 2-byte slot each node takes in its page's index.
        static let pageHeader = 16
        static let nodeHeader = 8
        static let nodeSlot = 2

        init(pageSize: Int) {
            self.pageSize = pageSize
            piecePayload = pageSize - Self.pageHeader
            // LMDB's me_nodemax: half a page's payload, even, less one index slot.
            let nodeMax = (((pageSize - Self.pageHeader) / 2) & ~1) - Self.nodeSlot
            inlineMax = nodeMax - Self.nodeHeader - Self.keySize - Self.headerSize
            recordMax = piecePayload - Self.headerSize
        }

        /// Single-page pieces a value is cut into; 0 when it stays in its `entries` record.
        func pieces(_ length: Int) -> Int {
            length <= recordMax ? 0 : (length + piecePayload - 1) / piecePayload
        }

        /// Where piece `i` of `n` starts in a value of `length` bytes, and its length (equal pieces, the first
        /// `length % n` one byte longer).
        func piece(_ i: Int, of n: Int, length: Int) -> Range<Int> {
            let base = length / n, extra = length % n
            let start = i * base + min(i, extra)
            return start..<(start + base + (i < extra ? 1 : 0))
        }

        /// What a value of `length` bytes is charged against `maxBytes`: its pages, plus its leaf nodes counted
        /// twice (B-tree leaves are between a quarter and completely full; about two thirds on average).
        func footprint(_ length: Int) -> Int {
            let index = 2 * (Self.nodeHeader + Self.nodeSlot + Self.keySize + Self.headerSize)
                + 2 * (Self.nodeHeader + Self.nodeSlot + Self.orderKeySize + Self.orderValueSize)
            if length <= inlineMax { return index + 2 * length }
            let n = pieces(length)
            if n == 0 { return index + pageSize }
            return index + n * (pageSize + 2 * (Self.nodeHeader + Self.nodeSlot + Self.pieceKeySize + 8))
        }
    }

    /// The fixed part of an `entries` record.
    struct Header {
        var sequence: UInt64
        var length: Int
        var crc: UInt32
        var pieces: Int

        init(sequence: UInt64, length: Int, crc: UInt32, pieces: Int) {
            self.sequence = sequence
            self.length = length
            self.crc = crc
            self.pieces = pieces
        }

        /// Reads a record's header; nil when the record is too short or inconsistent with `layout`.
        init?(_ raw: UnsafeRawBufferPointer, layout: Layout) {
            guard raw.count >= Layout.headerSize else { return nil }
            sequence = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 0, as: UInt64.self))
            let length = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
            crc = UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 16, as: UInt32.self))
            pieces = Int(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 20, as: UInt32.self)))
            guard length <= UInt64(Int.max / 2) else { return nil }
            self.length = Int(length)
            guard pieces == layout.pieces(self.length) else { return nil }
            if pieces == 0 && raw.count != Layout.headerSize + self.length { return nil }
            if pieces > 0 && raw.count != Layout.headerSize { return nil }
        }

        func write(to out: UnsafeMutableRawBufferPointer) {
            out.storeBytes(of: sequence.littleEndian, toByteOffset: 0, as: UInt64.self)
            out.storeBytes(of: UInt64(length).littleEndian, toByteOffset: 8, as: UInt64.self)
            out.storeBytes(of: crc.littleEndian, toByteOffset: 16, as: UInt32.self)
            out.storeBytes(of: UInt32(pieces).littleEndian, toByteOffset: 20, as: UInt32.self)
        }
    }

    /// The key of piece `index` of the value stored under `sequence`.
    struct PieceKey: ContiguousBytes {
        var bytes: (UInt64, UInt32)

        init(sequence: UInt64, index: Int) {
            bytes = (sequence.bigEndian, UInt32(index).bigEndian)
        }

        /// Whether `raw` is this key.
        func matches(_ raw: UnsafeRawBufferPointer) -> Bool {
            raw.count == Layout.pieceKeySize
                && raw.loadUnaligned(fromByteOffset: 0, as: UInt64.self) == bytes.0
                && raw.loadUnaligned(fromByteOffset: 8, as: UInt32.self) == bytes.1
        }

        /// The key's 12 bytes (the tuple is padded to 16).
        func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
            try Swift.withUnsafeBytes(of: bytes) {
                try body(UnsafeRawBufferPointer(rebasing: $0.prefix(Layout.pieceKeySize)))
            }
        }
    }

    /// The key of the `order` record of `sequence`: the sequence big-endian, so that keys sort oldest first.
    struct OrderKey: ContiguousBytes {
        var bigEndian: UInt64

        init(_ sequence: UInt64) { bigEndian = sequence.bigEndian }

        /// The sequence an `order` key (or a piece key, which starts with it) names.
        static func sequence(in raw: UnsafeRawBufferPointer) -> UInt64 {
            UInt64(bigEndian: raw.loadUnaligned(as: UInt64.self))
        }

        func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
            try Swift.withUnsafeBytes(of: bigEndian, body)
        }
    }

    static func checksum(_ bytes: UnsafeRawBufferPointer, continuing crc: UInt32 = 0) -> UInt32 {
        UInt32(truncatingIfNeeded: crc32(uLong(crc), bytes.baseAddress?.assumingMemoryBound(to: UInt8.self),
                                         uInt(bytes.count)))
    }
}
