import ArgumentParser
import CargoStore
import Foundation
import RoadCargo

/// `clearanced demo`: a fresh store with one account per role and a lane,
/// a printed curl walk through submit -> bundle -> decide with the real
/// tokens, then `serve` on a simulated clock with random selection off, so
/// the walk gives EARLY_CROSSING at 29:59 and BUNDLE_OK at 30:00.
struct Demo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve a demo: fresh store, demo accounts, a printed walk through submit, bundle, decide.")

    @Option(help: "The demo store file; it must not exist yet (the demo never touches real data).")
    var db: String

    @Option(help: "Port to listen on; 0 picks a free one.")
    var port = 8080

    func validate() throws {
        guard !FileManager.default.fileExists(atPath: db) else {
            throw ValidationError("--db \(db) exists; the demo starts from a new store, so name a new file")
        }
        try StoreOptions.parse(["--db", db]).validate()
    }

    func run() async throws {
        let store = try await StoreOptions.parse(["--db", db]).open()
        var tokens: [String: String] = [:]
        for (name, role) in [
            ("demo-shipper", AccountRole.shipper), ("demo-driver", .driver), ("demo-officer", .officer),
        ] {
            tokens[name] = try await store.addAccount(Account(name: name, role: role))
        }
        try await store.putLane(
            Lane(id: try LaneID("LMC-IN-01"), controlPoint: .lokMaChau, direction: .inbound))
        let start = "2026-11-26T09:00:00+08:00"
        let api = "http://127.0.0.1:\(port == 0 ? "PORT" : String(port))"
        printNow(
            """
            Demo store \(db): accounts demo-shipper, demo-driver, demo-officer; lane LMC-IN-01 (LMC, import).
            The clock starts at \(start) and moves only when the officer moves it.

            api=\(api)
            S='Authorization: Bearer \(tokens["demo-shipper"]!)'
            D='Authorization: Bearer \(tokens["demo-driver"]!)'
            O='Authorization: Bearer \(tokens["demo-officer"]!)'
            J='Content-Type: application/json'
            curl -s -H "$J" -H "$S" $api/v1/consignments -d '{"direction":"import","expectedDate":"2026-11-28","consignor":{"name":"Shenzhen Widgets Ltd","countryCode":"CN","addressLines":["1 Shennan Road","Shenzhen"]},"consignee":{"name":"Winning Co Ltd","countryCode":"HK","addressLines":["2 Nathan Road","Kowloon"]},"goodsItems":[{"description":"plastic widgets","packaging":{"count":10,"kind":"CT"},"grossWeight":{"value":550,"unit":"KGM"}}]}'
            curl -s -H "$J" -H "$D" $api/v1/bundles -d '{"driverName":"Ho Kin","vrn":"VRN0912","direction":"import","ccrns":["<ccrn from above>"]}'
            curl -s -H "$J" -H "$O" $api/v1/clock/advance -d '{"seconds":1799}'
            curl -s -H "$J" -H "$O" $api/v1/decisions/dry-run -d '{"laneId":"LMC-IN-01","vrn":"VRN0912","unladen":false}'   # INSPECT EARLY_CROSSING
            curl -s -H "$J" -H "$O" $api/v1/clock/advance -d '{"seconds":1}'
            curl -s -H "$J" -H "$O" $api/v1/decisions/dry-run -d '{"laneId":"LMC-IN-01","vrn":"VRN0912","unladen":false}'   # CLEARED BUNDLE_OK

            """)
        let serve = try Serve.parse([
            "--db", db, "--port", String(port), "--simulated-clock", "--start", start, "--laden-rate", "0",
            "--unladen-rate", "0",
        ])
        try await serve.run()
    }
}
