import Foundation
import PostgresSupport
import Testing

@Suite struct PostgresLocationTests {
    @Test(arguments: [
        (
            "postgres://central@db.lmc.example:5433/clearance",
            PostgresLocation(
                endpoint: .tcp(host: "db.lmc.example", port: 5433), user: "central", database: "clearance",
                tls: .verifyFull)
        ),
        (
            "postgresql://central@127.0.0.1/clearance",
            PostgresLocation(
                endpoint: .tcp(host: "127.0.0.1", port: 5432), user: "central", database: "clearance",
                tls: .disable)
        ),
        (
            "postgres://central@[::1]:6000/clearance?sslmode=require",
            PostgresLocation(
                endpoint: .tcp(host: "::1", port: 6000), user: "central", database: "clearance", tls: .require
            )
        ),
        (
            "postgres://central@/clearance?host=/run/postgresql",
            PostgresLocation(
                endpoint: .unixSocket(path: "/run/postgresql/.s.PGSQL.5432"), user: "central",
                database: "clearance", tls: .disable)
        ),
    ])
    func parses(url: String, expected: PostgresLocation) throws {
        #expect(try PostgresLocation(url: url) == expected)
    }

    @Test(arguments: [
        ("postgres://central:hunter2@db/clearance", "holds a password"),
        ("mysql://central@db/clearance", "must start with postgres://"),
        ("postgres://db/clearance", "names no user"),
        ("postgres://central@db/", "names no database"),
        ("postgres://central@db:70000/clearance", "not 1 to 65535"),
        ("postgres://central@db/clearance?sslmode=allow", "sslmode=allow"),
        ("postgres://central@db/clearance?pool=9", "unknown parameter pool"),
        ("postgres://central@/clearance?host=run/pg", "absolute path"),
        ("postgres://central@/clearance?host=/run/pg&sslmode=require", "TLS over a Unix socket"),
    ])
    func refuses(url: String, problem: String) {
        #expect {
            try PostgresLocation(url: url)
        } throws: { error in
            "\(error)".contains(problem)
        }
    }

    @Test func aRefusedPasswordIsNotRepeated() {
        #expect {
            try PostgresLocation(url: "postgres://central:hunter2@db/clearance")
        } throws: { error in
            !"\(error)".contains("hunter2")
        }
    }

    @Test func theDescriptionCarriesNoSecretAndParsesBack() throws {
        let location = try PostgresLocation(url: "postgres://central@db.lmc.example/clearance")
        #expect(try PostgresLocation(url: location.description) == location)
    }

    @Test func passwordsComeFromAFileOrTheEnvironment() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("pw-\(UUID())")
        try "s3cret\n".write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        #expect(try PostgresPasswordSource.file(file.path).read() == "s3cret")
        #expect(
            try PostgresPasswordSource.environment("PGPASSWORD").read(environment: ["PGPASSWORD": "x"]) == "x"
        )
        #expect(throws: PostgresLocationError.self) {
            try PostgresPasswordSource.environment("PGPASSWORD").read(environment: [:])
        }
        #expect(throws: PostgresLocationError.self) {
            try PostgresPasswordSource.file("/nonexistent/pw").read()
        }
    }
}
