import ArgumentParser
import CargoStore
import Foundation
import Logging
import PostgresSupport

/// Options every subcommand that touches the store shares: the SQLite file
/// (`--db`), or a PostgreSQL database (`--store postgres://...`) whose
/// password comes from `--store-password-file` or `PGPASSWORD`, never from
/// the command line.
struct StoreOptions: ParsableArguments {
    @Option(help: "The SQLite store file; created with its directory's permissions when missing.")
    var db: String?

    @Option(
        help: """
            A PostgreSQL store instead of --db: postgres://USER@HOST:PORT/DATABASE[?sslmode=disable|require|verify-full], \
            or postgres://USER@/DATABASE?host=/socket/dir. No password in it: see --store-password-file.
            """)
    var store: String?

    @Option(
        name: .customLong("store-password-file"),
        help: "With --store: a file whose first line is the database password (else PGPASSWORD, else none).")
    var storePasswordFile: String?

    func validate() throws {
        switch (db, store) {
        case (nil, nil):
            throw ValidationError(
                "give the store: --db FILE (SQLite) or --store postgres://USER@HOST/DATABASE")
        case (.some, .some):
            throw ValidationError("--db and --store both name a store; give one")
        case (let db?, nil):
            if storePasswordFile != nil {
                throw ValidationError(
                    "--store-password-file goes with --store postgres://...; a --db file has none")
            }
            let dir = URL(fileURLWithPath: db).deletingLastPathComponent().path
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDir), isDir.boolValue else {
                throw ValidationError("--db \(db): the directory \(dir) does not exist; create it first")
            }
        case (nil, let url?):
            do { _ = try PostgresLocation(url: url) } catch { throw ValidationError("--store: \(error)") }
        }
    }

    /// Whether the store is PostgreSQL (a node of several may share it).
    var isPostgres: Bool { store != nil }

    /// The store as logs show it: the file, or the URL without any password.
    var described: String {
        if let store, let location = try? PostgresLocation(url: store) { return location.description }
        return db ?? "?"
    }

    /// Where the database password comes from.
    var password: PostgresPasswordSource {
        if let storePasswordFile { return .file(storePasswordFile) }
        return ProcessInfo.processInfo.environment["PGPASSWORD"] != nil ? .environment("PGPASSWORD") : .none
    }

    /// Opens the store, reporting an unusable one as a configuration error.
    func open(logger: Logger = Logger(label: "clearanced.store")) async throws -> any CargoRepository {
        do {
            if let store {
                return try await PostgresCargoStore.open(
                    try PostgresLocation(url: store), password: password, logger: logger)
            }
            return try await SQLiteCargoStore.open(path: db ?? "")
        } catch let error as PostgresOpenError {
            let hint =
                password == .none ? " (no password was given: --store-password-file FILE or PGPASSWORD)" : ""
            printError("clearanced: \(error)\(hint)")
            throw exitConfig
        } catch {
            printError("clearanced: cannot open the store \(described): \(PostgresErrors.describe(error))")
            throw exitConfig
        }
    }
}
