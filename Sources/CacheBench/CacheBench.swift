import Foundation
import GRDB
import LaneJournal
import LinkCore
import RoadCargo

/// `CacheBench`: what a lane's offline cache costs for a control point of
/// N active bundles (default 10,000, two CCRNs each), as figures, not a
/// test (scripts/bench-cache.sh; docs/lane-dispatch.md, "Size").
///
/// Central's side: splitting the bundles into push chunks and encoding
/// them. The lane's side: staging every chunk in the journal as a push
/// arrives (one transaction each, the last installing the generation),
/// beside a baseline in the same run: the same rows written into a bare
/// SQLite file with the same durability, in the same number of
/// transactions, with no cache logic.
@main
enum CacheBench {
    static func main() async {
        let count = CommandLine.arguments.dropFirst().first.flatMap { Int($0) } ?? 10_000
        guard count > 0 else {
            FileHandle.standardError.write(Data("usage: CacheBench [number of bundles]\n".utf8))
            exit(64)
        }
        do {
            try await run(count)
        } catch {
            FileHandle.standardError.write(Data("CacheBench: \(error)\n".utf8))
            exit(1)
        }
    }

    static func run(_ count: Int) async throws {
        let morning = Date(timeIntervalSince1970: 1_790_000_000)
        let cached = (1...count).map { n in
            CachedBundle(
                ubr: UBR(payload: UInt64(n)), vrn: try! VRN("AB\(n % 100_000)"), direction: .inbound,
                ccrns: (0..<2).map {
                    CachedCCRN(
                        ccrn: CCRN(payload: UInt64(n * 10 + $0)),
                        validUntil: CalendarDay(daysSinceEpoch: 20_800))
                }, earliestCrossing: morning, status: .active)
        }
        var started = ContinuousClock.now
        let chunks = try BundleCacheChunk.split(generation: 1, bundles: cached, watchList: [])
        let bytes = try chunks.reduce(0) { $0 + (try LaneMessage.bundleCache($1).encode().count) }
        let split = ContinuousClock.now - started
        print("CacheBench: \(count) active bundles, 2 CCRNs each")
        print(
            "  central: \(chunks.count) chunks, \(bytes) payload bytes, split and encoded in \(seconds(split))"
        )

        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cache-bench-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }

        // Baseline: the same rows, the same transactions, a bare file.
        // WAL and FULL, as the journal runs.
        let bare = try DatabasePool(path: directory.appendingPathComponent("bare.sqlite").path)
        try await bare.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
        try await bare.write { db in
            try db.execute(
                sql: """
                    CREATE TABLE b (ubr TEXT PRIMARY KEY, vrn TEXT, direction TEXT, earliest INTEGER, status TEXT);
                    CREATE TABLE c (ubr TEXT, position INTEGER, ccrn TEXT, valid_until TEXT,
                        PRIMARY KEY (ubr, position));
                    """)
        }
        started = ContinuousClock.now
        for chunk in chunks {
            try await bare.write { db in
                for b in chunk.bundles {
                    try db.execute(
                        sql: "INSERT INTO b VALUES (?, ?, ?, ?, ?)",
                        arguments: [b.ubr.value, b.vrn.value, "import", 0, "active"])
                    for (i, c) in b.ccrns.enumerated() {
                        try db.execute(
                            sql: "INSERT INTO c VALUES (?, ?, ?, ?)",
                            arguments: [b.ubr.value, i, c.ccrn.value, c.validUntil.description])
                    }
                }
            }
        }
        let baseline = ContinuousClock.now - started

        let path = directory.appendingPathComponent("lane.sqlite").path
        let journal = try await LaneJournal.open(path: path, clock: SystemWallClock())
        let empty = try await usedBytes(journal.writer)
        started = ContinuousClock.now
        for chunk in chunks {
            _ = try await journal.stageCacheChunk(
                generation: chunk.generation, index: Int(chunk.index), count: Int(chunk.count),
                bundles: chunk.bundles.map {
                    OfflineBundle(
                        ubr: $0.ubr, vrn: $0.vrn, direction: $0.direction,
                        earliestCrossing: $0.earliestCrossing,
                        status: $0.status,
                        ccrns: $0.ccrns.map { OfflineBundle.Item(ccrn: $0.ccrn, validUntil: $0.validUntil) })
                }, watchList: [])
        }
        let installed = ContinuousClock.now - started
        let held = try await usedBytes(journal.writer) - empty
        print("  lane: staged and installed in \(seconds(installed)); \(held) bytes held in the journal")
        print(
            "  baseline (same rows and transactions, bare SQLite): \(seconds(baseline)); lane / baseline = "
                + String(format: "%.1f", value(installed) / max(1e-9, value(baseline))))
        let generation = try await journal.cacheGeneration()
        print("  installed generation holds \(generation?.bundles ?? 0) bundles")
    }

    static func usedBytes(_ writer: any DatabaseWriter) async throws -> Int {
        try await writer.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)")
            let pages = try Int.fetchOne(db, sql: "PRAGMA page_count") ?? 0
            let free = try Int.fetchOne(db, sql: "PRAGMA freelist_count") ?? 0
            let size = try Int.fetchOne(db, sql: "PRAGMA page_size") ?? 0
            return (pages - free) * size
        }
    }

    static func value(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }

    static func seconds(_ d: Duration) -> String { String(format: "%.3f s", value(d)) }
}
