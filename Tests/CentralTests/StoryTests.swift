import CargoStore
import Central
import Foundation
import Hummingbird
import HummingbirdTesting
import RoadCargo
import Testing

/// The issue's done-when story, through the HTTP API only: lane, submit,
/// bundle, and the 30-minute rule to the second on the simulated clock.
@Suite struct StoryTests {
    @Test func storyInProcess() async throws { try await story(.router) }

    @Test func storyLive() async throws { try await story(.live) }

    func story(_ setup: TestingSetup) async throws {
        let h = try await Harness()
        try await h.app().test(setup) { client in
            // Officer adds a lane.
            try await client.execute(
                uri: "/v1/lanes/LMC-IN-02", method: .put, headers: h.auth("officer"),
                body: buffer(["controlPoint": "LMC", "direction": "import"])
            ) { r throws in
                #expect(r.status == .created)
            }

            // Shipper submits: CCRN, valid until the submission day + 14 (HK).
            let ccrn = try await client.execute(
                uri: "/v1/consignments", method: .post, headers: h.auth("shipper"),
                body: buffer(h.submission())
            ) { r throws in
                #expect(r.status == .created)
                #expect(r.headers[.contentType] == "application/json")
                let o = try object(r)
                #expect(o["validUntil"] as? String == "2026-12-10")
                #expect(o["submittedAt"] as? String == "2026-11-26T09:00:00+08:00")
                #expect(r.headers[.location] == "/v1/consignments/\(o["ccrn"] as! String)")
                return o["ccrn"] as! String
            }

            // Driver bundles it.
            let ubr = try await client.execute(
                uri: "/v1/bundles", method: .post, headers: h.auth("driver"),
                body: buffer([
                    "driverName": "Ho Kin", "vrn": "vrn 0912", "direction": "import", "ccrns": [ccrn],
                ])
            ) { r throws in
                #expect(r.status == .created)
                let o = try object(r)
                #expect(o["vrn"] as? String == "VRN0912")
                #expect(o["earliestCrossing"] as? String == "2026-11-26T09:30:00+08:00")
                return o["ubr"] as! String
            }

            // 29 min 59 s after bundling: too early.
            try await client.execute(
                uri: "/v1/clock/advance", method: .post, headers: h.auth("officer"),
                body: buffer(["seconds": 1799])
            ) { r throws in
                #expect(r.status == .ok)
                #expect(try object(r)["now"] as? String == "2026-11-26T09:29:59+08:00")
            }
            let question: [String: Any] = ["laneId": "LMC-IN-01", "vrn": "VRN0912", "unladen": false]
            try await client.execute(
                uri: "/v1/decisions/dry-run", method: .post, headers: h.auth("officer"),
                body: buffer(question)
            ) { r throws in
                #expect(r.status == .ok)
                let o = try object(r)
                #expect(o["instruction"] as? String == "INSPECT")
                #expect(o["reason"] as? String == "EARLY_CROSSING")
                #expect(o["earliestCrossing"] as? String == "2026-11-26T09:30:00+08:00")
                #expect(o["ubr"] as? String == ubr)
            }

            // 30 min 0 s: cleared.
            try await client.execute(
                uri: "/v1/clock/advance", method: .post, headers: h.auth("officer"),
                body: buffer(["seconds": 1])
            ) { r throws in
                #expect(r.status == .ok)
            }
            try await client.execute(
                uri: "/v1/decisions/dry-run", method: .post, headers: h.auth("officer"),
                body: buffer(question)
            ) { r throws in
                let o = try object(r)
                #expect(o["instruction"] as? String == "CLEARED")
                #expect(o["reason"] as? String == "BUNDLE_OK")
            }

            // A dry run records nothing: the bundle is still active.
            try await client.execute(uri: "/v1/bundles/\(ubr)", method: .get, headers: h.auth("driver")) {
                r throws in
                #expect(r.status == .ok)
                #expect(try object(r)["status"] as? String == "active")
            }
            try await client.execute(uri: "/v1/bundles?vrn=VRN0912", method: .get, headers: h.auth("officer"))
            {
                r throws in
                #expect(r.status == .ok)
                #expect(try (object(r)["items"] as? [Any])?.count == 1)
            }

            // Amend after bundling: 409; debundle; then the amendment goes through.
            try await client.execute(
                uri: "/v1/consignments/\(ccrn)", method: .put, headers: h.auth("shipper"),
                body: buffer(h.submission(daysAhead: 3))
            ) { r throws in
                #expect(r.status == .conflict)
                #expect(r.headers[.contentType] == "application/problem+json")
                #expect(try issues(r).map(\.rule) == ["consignment.bundled"])
            }
            try await client.execute(
                uri: "/v1/bundles/\(ubr)/debundle", method: .post, headers: h.auth("driver2")
            ) { r throws in
                #expect(r.status == .forbidden)
            }
            try await client.execute(
                uri: "/v1/bundles/\(ubr)/debundle", method: .post, headers: h.auth("driver")
            ) {
                r throws in
                #expect(r.status == .ok)
                #expect(try object(r)["status"] as? String == "debundled")
            }
            try await client.execute(
                uri: "/v1/consignments/\(ccrn)", method: .put, headers: h.auth("shipper"),
                body: buffer(h.submission(daysAhead: 3))
            ) { r throws in
                #expect(r.status == .ok)
                #expect(try object(r)["amendedAt"] as? String == "2026-11-26T09:30:00+08:00")
            }
            try await client.execute(
                uri: "/v1/consignments/\(ccrn)/withdraw", method: .post, headers: h.auth("shipper")
            ) { r throws in
                #expect(r.status == .ok)
                #expect(try object(r)["status"] as? String == "withdrawn")
            }
        }
    }
}
