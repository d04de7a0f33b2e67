import ClearanceCore
import Foundation
import GRDB
import RoadCargo
import Testing

@testable import CargoStore

/// Repeats a fixed list of numbers, to force allocation clashes.
struct ScriptedGenerator: RandomNumberGenerator {
    var values: [UInt64]
    var index = 0
    mutating func next() -> UInt64 {
        defer { index += 1 }
        return values[index % values.count]
    }
}

@Suite("CCRN and UBR allocation")
struct AllocationTests {
    @Test("many numbers: no repeats, valid check digits, ten significant digits, not sequential")
    func many() async throws {
        let store = try SQLiteCargoStore.inMemory()
        let numbers = try await store.writer.write { db in
            try (0..<50_000).map { _ in try NumberAllocator.allocate(.ccrn, in: db, atMillis: 0) }
        }
        #expect(Set(numbers).count == numbers.count)
        #expect(numbers.allSatisfy { (1_000_000_000...9_999_999_999).contains($0) })
        for n in numbers.prefix(1000) { #expect((try? CCRN(String(n))) != nil) }
        let steps = Set(zip(numbers, numbers.dropFirst()).map { $0.1 - $0.0 })
        #expect(steps.count > 49_000)
    }

    @Test("a clash with an issued number is retried, never reissued", arguments: StoreBackend.all)
    func clashRetried(_ backend: StoreBackend) async throws {
        // Both allocations draw the same first value; the second must skip it.
        // Large values: UInt64.random(in:) keeps the high bits of a
        // product, so small ones would all give the same payload.
        let x = UInt64.max / 3, y = UInt64.max / 2
        let (a, b) = try await allocateTwice(
            backend, first: ScriptedGenerator(values: [x, x, y]), second: ScriptedGenerator(values: [x, y]))
        #expect(a != b)
    }

    @Test("a full run of clashes fails loudly instead of reissuing", arguments: StoreBackend.all)
    func exhausted(_ backend: StoreBackend) async throws {
        await #expect(throws: NumberAllocator.Exhausted.self) {
            _ = try await allocateTwice(
                backend, first: ScriptedGenerator(values: [7]), second: ScriptedGenerator(values: [7]))
        }
    }

    /// Two numbers allocated in one transaction of a new store, drawn from the generators given.
    func allocateTwice(_ backend: StoreBackend, first: ScriptedGenerator, second: ScriptedGenerator)
        async throws -> (Int64, Int64)
    {
        switch try await backend.makeStore() {
        case let sqlite as SQLiteCargoStore:
            return try await sqlite.writer.write { db in
                var one = first, two = second
                return (
                    try NumberAllocator.allocate(.ccrn, in: db, atMillis: 0, using: &one),
                    try NumberAllocator.allocate(.ubr, in: db, atMillis: 0, using: &two)
                )
            }
        case let postgres as PostgresCargoStore:
            return try await postgres.transaction { db in
                var one = first, two = second
                return (
                    try await NumberAllocator.allocate(
                        .ccrn, in: db, atMillis: 0, postgres.logger, using: &one),
                    try await NumberAllocator.allocate(
                        .ubr, in: db, atMillis: 0, postgres.logger, using: &two)
                )
            }
        case let other:
            throw StoreError.incompatible("no allocator test for \(type(of: other))")
        }
    }

    @Test(
        "numbers issued before a restart are never issued again, withdrawn and debundled ones included",
        arguments: StoreBackend.all)
    func acrossRestarts(_ backend: StoreBackend) async throws {
        let (first, reopen) = try await backend.makeShared()
        var store = first
        var issued: [String] = []
        for round in 0..<3 {
            if round > 0 { store = try await reopen() }
            let results = try await store.submitBatch(
                Array(repeating: Fixture.submission(), count: 300), by: Fixture.shipper, at: Fixture.t0)
            let ccrns = results.compactMap { r -> CCRN? in
                if case .accepted(let c) = r { return c.ccrn }
                return nil
            }
            #expect(ccrns.count == 300)
            _ = try await store.withdrawConsignment(ccrns[0], by: Fixture.shipper, at: Fixture.t0)
            let b = try await store.createBundle(
                Fixture.bundleRequest([ccrns[1]], vrn: try VRN("R\(round)")), by: Fixture.driver,
                at: Fixture.t0)
            _ = try await store.debundle(b.ubr, by: Fixture.driver, at: Fixture.t0)
            issued += ccrns.map(\.value) + [b.ubr.value]
        }
        #expect(Set(issued).count == issued.count)
        #expect(try await count(try await reopen(), "issued_numbers") == issued.count)
    }
}
