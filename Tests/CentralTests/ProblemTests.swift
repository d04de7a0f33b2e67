import CargoStore
import Central
import Foundation
import Hummingbird
import HummingbirdTesting
import RoadCargo
import Testing

/// Bad requests: each gets a problem body naming its field and rule, and a
/// refused request leaves the store as it was.
@Suite struct ProblemTests {
    @Test func badCheckDigitInBundleNamesTheCCRNAndChangesNothing() async throws {
        let h = try await Harness()
        let good = try await h.store.submitConsignment(
            try SubmissionBodyFixture.submission(h), by: Account(name: "shipper", role: .shipper),
            at: h.clock.now())
        var digits = Array(good.ccrn.value)
        digits[9] = digits[9] == "0" ? "1" : "0"
        let mistyped = String(digits)
        try await h.app().test(.router) { client in
            let body: [String: Any] = [
                "driverName": "Ho", "vrn": "AB123", "direction": "import",
                "ccrns": [good.ccrn.value, mistyped],
            ]
            try await client.execute(
                uri: "/v1/bundles", method: .post, headers: h.auth("driver"), body: buffer(body)
            ) {
                r throws in
                #expect(r.status == .unprocessableContent)
                #expect(r.headers[.contentType] == "application/problem+json")
                let found = try issues(r)
                #expect(found.count == 1)
                #expect(found.first?.field == "ccrns[1]")
                #expect(found.first?.rule == "ccrn.check-digit")
                let o = try object(r)
                #expect(o["status"] as? Int == 422)
                #expect(o["type"] as? String == "urn:lanekiosk:problem:validation")
            }
            // An unknown (but well-formed) CCRN refuses the whole bundle...
            let unknown = CCRN(payload: 123_456_789).value
            try await client.execute(
                uri: "/v1/bundles", method: .post, headers: h.auth("driver"),
                body: buffer([
                    "driverName": "Ho", "vrn": "AB123", "direction": "import",
                    "ccrns": [good.ccrn.value, unknown],
                ])
            ) { r throws in
                #expect(r.status == .unprocessableContent)
                #expect(try issues(r).map(\.field) == ["ccrns[1]"])
            }
            // ...and leaves the good CCRN free and the vehicle without a bundle.
            try await client.execute(
                uri: "/v1/consignments/\(good.ccrn.value)", method: .get, headers: h.auth("shipper")
            ) {
                r throws in
                #expect(try object(r)["status"] as? String == "active")
            }
            try await client.execute(
                uri: "/v1/bundles", method: .post, headers: h.auth("driver"),
                body: buffer([
                    "driverName": "Ho", "vrn": "AB123", "direction": "import", "ccrns": [good.ccrn.value],
                ])
            ) { r throws in
                #expect(r.status == .created)
            }
        }
        #expect(try await h.store.bundles(vrn: try VRN("AB123")).count == 1)
    }

    @Test func expectedDateOutsideTheWindow() async throws {
        let h = try await Harness()
        try await h.app().test(.router) { client in
            for days in [-1, 15] {
                try await client.execute(
                    uri: "/v1/consignments", method: .post, headers: h.auth("shipper"),
                    body: buffer(h.submission(daysAhead: days))
                ) { r throws in
                    #expect(r.status == .unprocessableContent)
                    #expect(try issues(r).map(\.field) == ["expectedDate"])
                    #expect(try issues(r).map(\.rule) == ["submission.window"])
                }
            }
            for days in [0, 14] {
                try await client.execute(
                    uri: "/v1/consignments", method: .post, headers: h.auth("shipper"),
                    body: buffer(h.submission(daysAhead: days))
                ) { r throws in
                    #expect(r.status == .created)
                }
            }
        }
    }

    @Test func unknownMissingWrongTypeAndNullFieldsAreNamed() async throws {
        let h = try await Harness()
        var body = h.submission(extra: ["colour": "red"])
        var consignor = body["consignor"] as! [String: Any]
        consignor["fax"] = "123"
        body["consignor"] = consignor
        let payload = buffer(body)
        try await h.app().test(.router) { client in
            try await client.execute(
                uri: "/v1/consignments", method: .post, headers: h.auth("shipper"), body: payload
            ) {
                r throws in
                #expect(r.status == .unprocessableContent)
                let found = try issues(r)
                #expect(found.map(\.field).sorted() == ["colour", "consignor.fax"])
                #expect(Set(found.map(\.rule)) == ["json.unknown-field"])
            }
            var wrong = h.submission()
            wrong["goodsItems"] = [["description": "x", "grossWeight": ["value": "550", "unit": "KGM"]]]
            try await client.execute(
                uri: "/v1/consignments", method: .post, headers: h.auth("shipper"), body: buffer(wrong)
            ) {
                r throws in
                #expect(r.status == .unprocessableContent)
                #expect(try issues(r).map(\.field) == ["goodsItems[0].grossWeight.value"])
                #expect(try issues(r).map(\.rule) == ["json.type"])
            }
            var missing = h.submission()
            missing["consignee"] = nil
            try await client.execute(
                uri: "/v1/consignments", method: .post, headers: h.auth("shipper"), body: buffer(missing)
            ) {
                r throws in
                #expect(try issues(r).map(\.field) == ["consignee"])
                #expect(try issues(r).map(\.rule) == ["json.required"])
            }
            let null = h.submission(extra: ["sealNumber": NSNull()])
            try await client.execute(
                uri: "/v1/consignments", method: .post, headers: h.auth("shipper"), body: buffer(null)
            ) {
                r throws in
                #expect(try issues(r).map(\.field) == ["sealNumber"])
            }
            let badEnum = h.submission(direction: "sideways")
            try await client.execute(
                uri: "/v1/consignments", method: .post, headers: h.auth("shipper"), body: buffer(badEnum)
            ) {
                r throws in
                #expect(try issues(r).map(\.field) == ["direction"])
            }
            try await client.execute(
                uri: "/v1/consignments", method: .post, headers: h.auth("shipper"),
                body: buffer("{\"direction\": ")
            ) { r throws in
                #expect(r.status == .badRequest)
                #expect(try object(r)["type"] as? String == "urn:lanekiosk:problem:malformed-request")
            }
            try await client.execute(
                uri: "/v1/consignments", method: .post, headers: h.auth("shipper"), body: buffer("[1]")
            ) {
                r throws in
                #expect(r.status == .unprocessableContent)
            }
            var xml = h.auth("shipper")
            xml[.contentType] = "text/plain"
            try await client.execute(
                uri: "/v1/consignments", method: .post, headers: xml, body: buffer(h.submission())
            ) {
                r throws in
                #expect(r.status == .unsupportedMediaType)
            }
            let huge = "{\"x\": \"" + String(repeating: "a", count: 2 << 20) + "\"}"
            try await client.execute(
                uri: "/v1/consignments", method: .post, headers: h.auth("shipper"), body: buffer(huge)
            ) {
                r throws in
                #expect(r.status == .contentTooLarge)
                #expect(r.headers[.contentType] == "application/problem+json")
            }
        }
    }

    @Test func referencesInThePath() async throws {
        let h = try await Harness()
        try await h.app().test(.router) { client in
            let unknown = CCRN(payload: 42).value
            try await client.execute(
                uri: "/v1/consignments/\(unknown)", method: .get, headers: h.auth("officer")
            ) { r throws in
                #expect(r.status == .notFound)
                #expect(try issues(r).map(\.field) == ["ccrn"])
            }
            var digits = Array(unknown)
            digits[9] = digits[9] == "0" ? "1" : "0"
            try await client.execute(
                uri: "/v1/consignments/\(String(digits))", method: .get, headers: h.auth("officer")
            ) {
                r throws in
                #expect(r.status == .unprocessableContent)
                #expect(try issues(r).map(\.rule) == ["ccrn.check-digit"])
                #expect(try issues(r).map(\.field) == ["ccrn"])
            }
            try await client.execute(uri: "/v1/bundles/12345", method: .get, headers: h.auth("officer")) {
                r throws in
                #expect(r.status == .unprocessableContent)
                #expect(try issues(r).map(\.field) == ["ubr"])
            }
            try await client.execute(uri: "/v1/no-such-thing", method: .get) { r throws in
                #expect(r.status == .notFound)
                #expect(try object(r)["type"] as? String == "urn:lanekiosk:problem:route-not-found")
            }
        }
    }

    @Test func authentication() async throws {
        let h = try await Harness()
        try await h.app().test(.router) { client in
            try await client.execute(uri: "/v1/clock", method: .get) { r throws in
                #expect(r.status == .unauthorized)
                #expect(r.headers[.wwwAuthenticate]?.hasPrefix("Bearer") == true)
                #expect(r.headers[.contentType] == "application/problem+json")
            }
            try await client.execute(uri: "/v1/clock", method: .get, headers: [.authorization: "Bearer nope"])
            { r throws in
                #expect(r.status == .unauthorized)
                #expect(r.headers[.wwwAuthenticate]?.contains("invalid_token") == true)
            }
            try await client.execute(uri: "/v1/clock", method: .get, headers: [.authorization: "Basic eDp5"])
            { r throws in
                #expect(r.status == .unauthorized)
            }
            try await client.execute(uri: "/v1/health", method: .get) { r throws in
                #expect(r.status == .ok)
            }
        }
    }

    @Test func roles() async throws {
        let h = try await Harness()
        let mine = try await h.store.submitConsignment(
            try SubmissionBodyFixture.submission(h), by: Account(name: "shipper", role: .shipper),
            at: h.clock.now())
        try await h.app().test(.router) { client in
            try await client.execute(
                uri: "/v1/consignments", method: .post, headers: h.auth("driver"),
                body: buffer(h.submission())
            ) { r throws in
                #expect(r.status == .forbidden)
            }
            try await client.execute(
                uri: "/v1/decisions/dry-run", method: .post, headers: h.auth("driver"),
                body: buffer(["laneId": "LMC-IN-01", "vrn": "AB1", "unladen": true])
            ) { r throws in
                #expect(r.status == .forbidden)
            }
            try await client.execute(
                uri: "/v1/consignments/\(mine.ccrn.value)", method: .get, headers: h.auth("shipper2")
            ) {
                r throws in
                #expect(r.status == .forbidden)
            }
            try await client.execute(
                uri: "/v1/clock/advance", method: .post, headers: h.auth("shipper"),
                body: buffer(["seconds": 5])
            ) { r throws in
                #expect(r.status == .forbidden)
            }
            try await client.execute(
                uri: "/v1/lanes/X1", method: .put, headers: h.auth("driver"),
                body: buffer(["controlPoint": "LMC", "direction": "import"])
            ) { r throws in
                #expect(r.status == .forbidden)
            }
            try await client.execute(uri: "/v1/watchlist", method: .get, headers: h.auth("agent")) {
                r throws in
                #expect(r.status == .forbidden)
            }
        }
    }

    @Test func systemClockCannotBeMoved() async throws {
        let h = try await Harness(clock: SystemWallClock())
        try await h.app().test(.router) { client in
            try await client.execute(
                uri: "/v1/clock/advance", method: .post, headers: h.auth("officer"),
                body: buffer(["seconds": 5])
            ) { r throws in
                #expect(r.status == .conflict)
                #expect(try issues(r).map(\.rule) == ["clock.not-simulated"])
            }
            try await client.execute(uri: "/v1/clock", method: .get, headers: h.auth("driver")) { r throws in
                #expect(try object(r)["simulated"] as? Bool == false)
            }
        }
    }

    @Test func simulatedClockOnlyMovesForward() async throws {
        let h = try await Harness()
        try await h.app().test(.router) { client in
            try await client.execute(
                uri: "/v1/clock", method: .put, headers: h.auth("officer"),
                body: buffer(["now": "2026-11-25T09:00:00+08:00"])
            ) { r throws in
                #expect(r.status == .conflict)
                #expect(try issues(r).map(\.field) == ["now"])
            }
            try await client.execute(
                uri: "/v1/clock", method: .put, headers: h.auth("officer"),
                body: buffer(["now": "2026-11-27T01:00:00Z"])
            ) { r throws in
                #expect(r.status == .ok)
                #expect(try object(r)["now"] as? String == "2026-11-27T09:00:00+08:00")
            }
            try await client.execute(
                uri: "/v1/clock/advance", method: .post, headers: h.auth("officer"),
                body: buffer(["seconds": -1])
            ) { r throws in
                #expect(r.status == .unprocessableContent)
                #expect(try issues(r).map(\.field) == ["seconds"])
            }
        }
    }
}

/// A domain submission that passes every rule, for seeding the store directly.
enum SubmissionBodyFixture {
    static func submission(_ h: Harness) throws -> ConsignmentSubmission {
        let data = try JSONSerialization.data(withJSONObject: h.submission())
        return try JSONDecoder().decode(SubmissionBody.self, from: data).domain()
    }
}
