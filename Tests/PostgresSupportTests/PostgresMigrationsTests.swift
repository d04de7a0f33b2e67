import Foundation
import Logging
import PostgresNIO
import PostgresSupport
import PostgresTestSupport
import Testing

@Suite(.enabled(if: PostgresTestServer.isConfigured, "needs scripts/with-postgres.sh"))
struct PostgresMigrationsTests {
    let logger = Logger(label: "test.migrations")

    @Test func eachStepRunsOnceEvenWhenNodesStartTogether() async throws {
        let location = try await PostgresTestServer.freshDatabase()
        let migrations = PostgresMigrations(
            part: "demo",
            steps: [
                .init("demo/v1", ["CREATE TABLE demo (n integer)", "INSERT INTO demo VALUES (1)"]),
                .init("demo/v2", ["INSERT INTO demo VALUES (2)"]),
            ])
        // Three "nodes" migrate one new database at once.
        let applied = try await withThrowingTaskGroup(of: [String].self) { group in
            for _ in 0..<3 {
                group.addTask {
                    let database = try await PostgresPool.open(
                        location, password: PostgresTestServer.password, logger: logger)
                    do {
                        let names = try await migrations.apply(to: database)
                        await database.close()
                        return names
                    } catch {
                        await database.close()
                        throw error
                    }
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        #expect(applied.sorted() == ["demo/v1", "demo/v2"])
        let database = try await PostgresPool.open(
            location, password: PostgresTestServer.password, logger: logger)
        let rows = try await database.client.query("SELECT n FROM demo ORDER BY n", logger: logger)
        var values: [Int] = []
        for try await n in rows.decode(Int.self) { values.append(n) }
        await database.close()
        #expect(values == [1, 2])
    }

    @Test func aDatabaseFromANewerVersionIsRefused() async throws {
        let database = try await PostgresTestServer.openFresh(logger: logger)
        let newer = PostgresMigrations(
            part: "demo", steps: [.init("demo/v1", ["SELECT 1"]), .init("demo/v2", ["SELECT 1"])])
        try await newer.apply(to: database)
        let older = PostgresMigrations(part: "demo", steps: [.init("demo/v1", ["SELECT 1"])])
        await #expect {
            try await older.apply(to: database)
        } throws: { error in
            "\(error)".contains("demo/v2") && "\(error)".contains("newer")
        }
        await database.close()
    }

    @Test func aWrongPasswordIsRefusedWithTheServersWords() async throws {
        let location = try PostgresTestServer.location()
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("pw-\(UUID())")
        try "wrong".write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        await #expect {
            try await PostgresPool.open(location, password: .file(file.path), logger: logger)
        } throws: { error in
            "\(error)".contains("password authentication failed")
        }
    }
}
