import ArgumentParser
import CargoStore
import Foundation
import Logging
import PostgresSupport

/// `clearanced store`: moving a store between databases.
struct StoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "store", abstract: "Move a central's store between databases.",
        subcommands: [Copy.self])

    /// `clearanced store copy`: a SQLite central into an empty PostgreSQL store.
    struct Copy: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Copy a whole SQLite store into an empty PostgreSQL store, in one transaction.",
            discussion: """
                Stop clearanced first. Every row is copied with its id and number, and the \
                PostgreSQL sequences continue after them; a target that holds any row is \
                refused. Prints the rows copied per table.
                """)

        @Option(name: .customLong("from-db"), help: "The SQLite store file to copy.")
        var fromDB: String

        @Option(help: "The empty PostgreSQL store: postgres://USER@HOST:PORT/DATABASE (no password in it).")
        var to: String

        @Option(
            name: .customLong("store-password-file"),
            help: "A file whose first line is the database password (else PGPASSWORD, else none).")
        var storePasswordFile: String?

        func validate() throws {
            guard FileManager.default.fileExists(atPath: fromDB) else {
                throw ValidationError("--from-db \(fromDB): no such file")
            }
            do { _ = try PostgresLocation(url: to) } catch { throw ValidationError("--to: \(error)") }
        }

        func run() async throws {
            let logger = Logger(label: "clearanced.store-copy")
            let target = try await StoreOptions.parse(
                ["--store", to] + (storePasswordFile.map { ["--store-password-file", $0] } ?? [])
            ).open(logger: logger)
            let source = try await StoreOptions.parse(["--db", fromDB]).open(logger: logger)
            guard let source = source as? SQLiteCargoStore, let target = target as? PostgresCargoStore else {
                throw exitConfig
            }
            let counts: [StoreCopy.TableCount]
            do {
                counts = try await StoreCopy.copy(from: source, to: target)
            } catch {
                printError("clearanced: nothing was copied: \(PostgresErrors.describe(error))")
                await target.close()
                throw exitConfig
            }
            await target.close()
            for count in counts { printNow("\(count.table) \(count.rows)") }
            printNow("copied \(counts.reduce(0) { $0 + $1.rows }) rows from \(fromDB) to \(target.location)")
        }
    }
}
