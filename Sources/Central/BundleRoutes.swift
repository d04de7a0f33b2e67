import CargoStore
import ClearanceCore
import Foundation
import Hummingbird
import RoadCargo

extension CentralApp {
    /// Drivers bundle and debundle their own; officers may read and debundle
    /// any. Shippers and agents follow their consignment's `bundledIn`.
    func addBundleRoutes(to router: Router<CentralContext>) {
        router.post("/v1/bundles") { request, _ in
            let account = try await auth.account(for: request)
            try account.require([.driver], to: "create bundles")
            let body = try await JSONBody.decode(
                BundleRequestBody.self, from: request, limit: limits.jsonBody)
            let bundle = try await repository.createBundle(try body.domain(), by: account, at: clock.now())
            var response = try JSONBody.response(BundleBody(bundle), status: .created)
            response.headers[.location] = "/v1/bundles/\(bundle.ubr.value)"
            return response
        }

        router.get("/v1/bundles") { request, _ in
            let account = try await auth.account(for: request)
            try account.require([.driver, .officer], to: "look up bundles")
            guard let raw = request.uri.queryParameters.get("vrn") else {
                throw Problem.invalid("vrn", "query.required", "give the vehicle as ?vrn=")
            }
            let vrn = try parsing("vrn") { () throws(ValidationFailure) in try APIParse.vrn(raw) }
            // A driver sees only the bundles they made: a plate is not a secret,
            // but another driver's CCRNs are someone else's business.
            let all = try await repository.bundles(vrn: vrn)
            let visible = account.isOfficer ? all : all.filter { $0.driverAccount == account.name }
            return try JSONBody.response(
                ListBody(items: visible.prefix(Self.maximumListed).map(BundleBody.init)))
        }

        router.get("/v1/bundles/{ubr}") { request, context in
            let account = try await auth.account(for: request)
            try account.require([.driver, .officer], to: "look up bundles")
            let bundle = try await existingBundle(context.parameters)
            guard account.isOfficer || bundle.driverAccount == account.name else {
                throw Problem(.forbidden, "UBR \(bundle.ubr) belongs to another driver")
            }
            return try JSONBody.response(BundleBody(bundle))
        }

        router.post("/v1/bundles/{ubr}/debundle") { request, context in
            let account = try await auth.account(for: request)
            try account.require([.driver, .officer], to: "debundle")
            let bundle = try await existingBundle(context.parameters)
            let ended = try await repository.debundle(bundle.ubr, by: account, at: clock.now())
            return try JSONBody.response(BundleBody(ended))
        }
    }

    /// Bundles listed by VRN, newest first, at most this many.
    static let maximumListed = 100

    private func existingBundle(_ parameters: Parameters) async throws -> CargoBundle {
        let ubr = try parameters.parsed("ubr") { raw throws(ValidationFailure) in
            try APIParse.reference(UBR.self, raw)
        }
        guard let bundle = try await repository.bundle(ubr) else {
            throw Problem(
                .notFound, "UBR \(ubr) does not exist",
                issues: [
                    ValidationIssue(field: "ubr", rule: "ubr.unknown", detail: "UBR \(ubr) does not exist")
                ])
        }
        return bundle
    }
}
