import CargoStore
import Foundation
import Hummingbird
import RoadCargo

/// Bearer-token authentication and role checks.
///
/// Tokens are looked up through ``CargoRepository/account(forToken:)``,
/// which compares hashes; the token itself never reaches a log line.
struct Authenticator: Sendable {
    let repository: any CargoRepository

    /// Longer than any token `clearanced account add` issues; refusing early
    /// keeps a multi-megabyte header from being hashed. In bytes: tokens are ASCII.
    static let maximumTokenLength = 256

    static let challenge = "Bearer realm=\"clearanced\""

    /// The account behind the request's bearer token.
    /// - Throws: 401 with a `WWW-Authenticate` challenge when the header is
    ///   missing, not a bearer token, or names no account.
    func account(for request: Request) async throws -> Account {
        guard let header = request.headers[.authorization] else {
            throw Problem(
                .unauthorized, "send Authorization: Bearer <token>; clearanced account add issues tokens",
                headers: [.wwwAuthenticate: Self.challenge])
        }
        let parts = header.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else {
            throw Problem(
                .unauthorized, "the Authorization header must be \"Bearer <token>\"",
                headers: [.wwwAuthenticate: Self.challenge + ", error=\"invalid_request\""])
        }
        let token = parts[1].trimmingCharacters(in: .whitespaces)
        guard !token.isEmpty, token.utf8.count <= Self.maximumTokenLength,
            let account = try await repository.account(forToken: token)
        else {
            throw Problem(
                .unauthorized, "the bearer token is not known; ask an officer for a new one",
                headers: [.wwwAuthenticate: Self.challenge + ", error=\"invalid_token\""])
        }
        return account
    }
}

extension Account {
    /// Refuses with 403 unless the account has one of `roles`.
    func require(_ roles: Set<AccountRole>, to action: String) throws {
        guard roles.contains(role) else {
            let allowed = roles.map(\.rawValue).sorted().joined(separator: " or ")
            throw Problem(
                .forbidden, "only a \(allowed) account may \(action); \(name) is a \(role.rawValue)")
        }
    }

    var isOfficer: Bool { role == .officer }
}
