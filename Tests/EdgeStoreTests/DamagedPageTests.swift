import EdgeCore
@testable import EdgeStore
import EdgeTestSupport
import Foundation
import Testing

/// Damages LMDB's own structure under a stored value, as a bad disk would (the store closed): the leaf node of the
/// key's `entries` record, or of piece `piece` of a larger value, is pointed at an overflow page past the end of
/// the file. LMDB then fails every read, delete or overwrite of that record with MDB_PAGE_NOTFOUND (and marks the
/// transaction failed), while the rest of the store works. Returns how many copies of the node it changed (the
/// file also holds stale copies in pages freed by earlier transactions).
@discardableResult
func breakOverflowPointer(storeAt path: String, key k: CacheKey, piece: Int? = nil) throws -> Int {
    var nodeKey = k.bytes
    if let piece {
        let record = try withRawStore(at: path, readOnly: true) { db in try db.txn.get(k.bytes, in: db.entries) { Array($0) } }
        nodeKey = pieceKey(sequenceIn: try #require(record), piece: piece)
    }
    // A leaf node: data size (4 bytes), flags (F_BIGDATA = 1), key size, key, then the overflow page number.
    let pattern: [UInt8] = [1, 0, UInt8(nodeKey.count), 0] + nodeKey
    let url = URL(fileURLWithPath: path).appendingPathComponent("data.mdb")
    var file = try [UInt8](Data(contentsOf: url))
    var changed = 0
    var i = 0
    while i + pattern.count + 8 <= file.count {
        if file[i] == 1, file[i..<(i + pattern.count)].elementsEqual(pattern) {
            let at = i + pattern.count
            withUnsafeBytes(of: UInt64(1 << 40).littleEndian) { file.replaceSubrange(at..<(at + 8), with: $0) }
            changed += 1
            i = at + 8
        } else {
            i += 1
        }
    }
    try Data(file).write(to: url)
    #expect(changed > 0)
    return changed
}

@Suite struct DamagedPageTests {
    /// Should fail only the write that touches a record LMDB cannot read, not the fills batched with it, and
    /// count the isolated batch and the failed write.
    @Test func damagedRecordFailsOnlyItsOwnWrite() async throws {
        let dir = try TemporaryDirectory()
        // 3000 bytes: one overflow page each.
        do {
            let store = try LMDBCacheStore(path: dir.path, maxBytes: 8 << 20)
            for i in 0..<10 { try await store.write(key("old\(i)"), value: value(i, count: 3000)) }
            try await store.write(key("bad"), value: value(99, count: 3000))
            store.close()
        }
        try breakOverflowPointer(storeAt: dir.path, key: key("bad"))
        let store = try LMDBCacheStore(path: dir.path, maxBytes: 8 << 20)
        defer { store.close() }
        #expect(store.bytes(key("bad")) == nil)
        var batch = (0..<8).map { (key("new\($0)"), value(100 + $0, count: 3000)) }
        batch.insert((key("bad"), value(98, count: 3000)), at: 4)
        let results = await store.write(batch: batch)
        #expect(results.count == 9)
        for (i, result) in results.enumerated() {
            if i == 4 {
                #expect(throws: LMDBError.self) { try result.get() }
            } else {
                #expect((try? result.get()) != nil, "write \(i) of the batch failed")
            }
        }
        for i in 0..<8 { #expect(store.bytes(key("new\(i)")) == value(100 + i, count: 3000)) }
        for i in 0..<10 { #expect(store.bytes(key("old\(i)")) == value(i, count: 3000)) }
        let stats = store.statistics
        #expect(stats.isolatedBatches == 1)
        #expect(stats.failedOperations == 1)
        // Later batches are not held up by what the failed one left behind.
        let after = await store.write(batch: [(key("later0"), value(7, count: 100)), (key("later1"), value(8, count: 100))])
        #expect(after.allSatisfy { (try? $0.get()) != nil })
        #expect(store.statistics.isolatedBatches == 1)
    }

    /// Should delete an entry whose pieces LMDB cannot free, leaving those pieces behind (counted) so that the
    /// rest of its records go and its key can be filled again; other entries are untouched.
    @Test func undeletablePiecesAreLeftBehind() async throws {
        let dir = try TemporaryDirectory()
        do {
            let store = try LMDBCacheStore(path: dir.path, maxBytes: 8 << 20)
            try await store.write(key("good"), value: value(1, count: 40_000))
            try await store.write(key("bad"), value: value(2, count: 40_000))
            store.close()
        }
        try breakOverflowPointer(storeAt: dir.path, key: key("bad"), piece: 3)
        let store = try LMDBCacheStore(path: dir.path, maxBytes: 8 << 20)
        defer { store.close() }
        // A miss, and removed (the read asks the writer to; this waits for the same).
        #expect(store.bytes(key("bad")) == nil)
        try await store.remove(key("bad"))
        #expect(store.usage == CacheUsage(entries: 1, bytes: 40_000))
        #expect(store.statistics.abandonedRecords == 1)
        #expect(store.statistics.failedOperations == 0)
        try await store.write(key("bad"), value: value(3, count: 40_000))
        #expect(store.bytes(key("bad")) == value(3, count: 40_000))
        #expect(store.bytes(key("good")) == value(1, count: 40_000))
    }
}
